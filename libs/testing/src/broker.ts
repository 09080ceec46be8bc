import { type CloudEvent, type EventType, exchangeOf } from '@app/events';
import { randomBytes } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';

/**
 * How tests reach a broker: its AMQP addresses (one per node; no vhost) and management APIs.
 * `DEFAULT_BROKER` is the machine's broker (scripts/infra/ensure-services.sh starts it with the
 * management plugin), moved by `TEST_AMQP_BASE` and `RABBITMQ_MANAGEMENT_URL` (a CI run on
 * RabbitMQ 4 points them at a node of its own). Tests that stop or alarm a broker use a
 * `BrokerNode` of their own instead.
 */
export interface BrokerAccess {
  amqpBases: string[];
  managementUrls: string[];
  /** `user:password` of the management API and of `amqpBases`. */
  credentials: string;
}

export const DEFAULT_BROKER: BrokerAccess = {
  amqpBases: [process.env.TEST_AMQP_BASE ?? 'amqp://guest:guest@127.0.0.1:5672'],
  managementUrls: [process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://127.0.0.1:15672'],
  credentials: process.env.RABBITMQ_MANAGEMENT_AUTH ?? 'guest:guest',
};

/** `host` and `port` of a broker's first node (a TCP proxy in front of it, say). */
export function brokerAddress(broker: BrokerAccess = DEFAULT_BROKER): {
  host: string;
  port: number;
} {
  const url = new URL(broker.amqpBases[0]!);
  return { host: url.hostname, port: Number(url.port || 5672) };
}

/** The management API of the default broker. */
export const MANAGEMENT_URL = DEFAULT_BROKER.managementUrls[0]!;

/**
 * Calls the management API (the first node of `broker` that answers); throws with the status
 * and body on failure.
 */
export async function management<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  broker: BrokerAccess = DEFAULT_BROKER,
): Promise<T> {
  let unreachable: unknown;
  for (const base of broker.managementUrls) {
    let response: Response;
    try {
      response = await fetch(`${base}/api${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(broker.credentials).toString('base64')}`,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      unreachable = error; // a node that is down: ask the next one
      continue;
    }
    if (!response.ok) {
      throw new Error(
        `RabbitMQ management ${method} ${path}: ${response.status} ${await response.text()}`,
      );
    }
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  throw new Error(
    `RabbitMQ management ${method} ${path}: no node answered (${String((unreachable as Error)?.message ?? unreachable)}); is the management plugin enabled (bash scripts/infra/ensure-services.sh)?`,
  );
}

/** A vhost of its own for one test suite, deleted by `dispose`. */
export interface TestVhost {
  name: string;
  /** The vhost on every node, comma-separated: what a service's `AMQP_URL` takes. */
  url: string;
  /** The vhost on the first node: for a plain amqplib connection. */
  firstUrl: string;
  broker: BrokerAccess;
  dispose(): Promise<void>;
}

/** Creates a fresh vhost with full permissions for guest. */
export async function createTestVhost(
  prefix = 'test',
  broker: BrokerAccess = DEFAULT_BROKER,
): Promise<TestVhost> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await management('PUT', `/vhosts/${encodeURIComponent(name)}`, {}, broker);
  await management(
    'PUT',
    `/permissions/${encodeURIComponent(name)}/guest`,
    { configure: '.*', write: '.*', read: '.*' },
    broker,
  );
  const urls = broker.amqpBases.map((base) => `${base}/${encodeURIComponent(name)}`);
  return {
    name,
    url: urls.join(','),
    firstUrl: urls[0]!,
    broker,
    dispose: async () => {
      await management('DELETE', `/vhosts/${encodeURIComponent(name)}`, undefined, broker).catch(
        () => undefined,
      );
    },
  };
}

/**
 * An amqplib connection to the first node of `urls` (one URL, or a comma-separated list) that
 * accepts one: a test keeps working while a node of its cluster is down.
 */
export async function connectAny(urls: string): Promise<ChannelModel> {
  let last: unknown;
  for (const url of urls.split(',').map((part) => part.trim())) {
    try {
      // noDelay: without it Nagle's algorithm and delayed ACKs hold each small frame ~40 ms.
      return await amqplib.connect(url, { noDelay: true });
    } catch (error) {
      last = error;
    }
  }
  throw last instanceof Error ? last : new Error(`No broker of ${urls} accepted a connection`);
}

/** A plain amqplib connection for tests to publish, inspect and drain queues. */
export class BrokerProbe {
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  /** Opens a probe on `url` (the first node of a comma-separated list that answers). */
  static async open(url: string): Promise<BrokerProbe> {
    const connection = await connectAny(url);
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
  broker: BrokerAccess = DEFAULT_BROKER,
): Promise<{ name: string; client_properties?: { connection_name?: string } }[]> {
  const all = await management<
    { name: string; vhost: string; client_properties?: { connection_name?: string } }[]
  >('GET', '/connections', undefined, broker);
  return all.filter((connection) => connection.vhost === vhost);
}
