import { type CloudEvent, type EventType, exchangeOf } from '@app/events';
import { randomBytes } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';

/** The management API of the local RabbitMQ (enabled by ../shared/tools/ensure-services.sh). */
export const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672';
const AMQP_BASE = process.env.TEST_AMQP_BASE ?? 'amqp://guest:guest@127.0.0.1:5672';
const AUTH = `Basic ${Buffer.from(process.env.RABBITMQ_MANAGEMENT_AUTH ?? 'guest:guest').toString('base64')}`;

/** Calls the management API; throws with the status and body on failure. */
export async function management<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${MANAGEMENT_URL}/api${path}`, {
    method,
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) {
    throw new Error(
      `RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`,
    );
  }
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A vhost of its own for one test suite, deleted by `dispose`. */
export interface TestVhost {
  name: string;
  url: string;
  dispose(): Promise<void>;
}

/** Creates a fresh vhost with full permissions for guest. */
export async function createTestVhost(prefix = 'test'): Promise<TestVhost> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await management('PUT', `/vhosts/${encodeURIComponent(name)}`, {});
  await management('PUT', `/permissions/${encodeURIComponent(name)}/guest`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  return {
    name,
    url: `${AMQP_BASE}/${encodeURIComponent(name)}`,
    dispose: async () => {
      await management('DELETE', `/vhosts/${encodeURIComponent(name)}`).catch(() => undefined);
    },
  };
}

/** A plain amqplib connection for tests to publish, inspect and drain queues. */
export class BrokerProbe {
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(url: string): Promise<BrokerProbe> {
    // noDelay: without it Nagle's algorithm and delayed ACKs hold each small frame ~40 ms.
    const connection = await amqplib.connect(url, { noDelay: true });
    const channel = await connection.createChannel();
    return new BrokerProbe(connection, channel);
  }

  /** Publishes an event as its producer's relay would: to its exchange, keyed by its type, persistent. */
  publishEvent(event: CloudEvent): void {
    this.channel.publish(
      exchangeOf(event.type as EventType),
      event.type,
      Buffer.from(JSON.stringify(event)),
      { persistent: true, messageId: event.id, type: event.type },
    );
  }

  /** Message count of a queue (ready messages only). */
  async depth(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes every ready message off a queue (acked). */
  async drain(queue: string): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await this.channel.get(queue, { noAck: true });
      if (!message) return messages;
      messages.push(message);
    }
  }

  /** Collects, from now on, what is published to `exchange` (an exclusive queue of the probe). */
  async capture(
    exchange: string,
    pattern = '#',
  ): Promise<{ type: string; body: Record<string, unknown> }[]> {
    const captured: { type: string; body: Record<string, unknown> }[] = [];
    await this.channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await this.channel.assertQueue('', { exclusive: true });
    await this.channel.bindQueue(queue, exchange, pattern);
    await this.channel.consume(
      queue,
      (message) => {
        if (!message) return;
        captured.push({
          type: message.fields.routingKey,
          body: JSON.parse(message.content.toString()) as Record<string, unknown>,
        });
      },
      { noAck: true },
    );
    return captured;
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** Names of the AMQP connections RabbitMQ holds for a vhost. */
export async function connectionsOf(
  vhost: string,
): Promise<{ name: string; client_properties?: { connection_name?: string } }[]> {
  const all = await management<
    { name: string; vhost: string; client_properties?: { connection_name?: string } }[]
  >('GET', '/connections');
  return all.filter((connection) => connection.vhost === vhost);
}
