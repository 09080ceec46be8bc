import { EventEmitter } from 'node:events';
import { type ChannelModel, type ConsumeMessage, type MessagePropertyHeaders } from 'amqplib';
import { type Connector } from '../src/connection/broker-connection.js';

/**
 * Fakes of amqplib's connection and channel, for unit tests of the supervision logic (as
 * amqp-connection-manager's test/fixtures.ts): a test makes the broker refuse a connection,
 * fail a channel's setup, block publishing or drop the connection, in milliseconds.
 */
export class FakeChannel extends EventEmitter {
  closed = false;
  readonly published: { exchange: string; routingKey: string }[] = [];

  constructor(readonly connection: FakeConnection) {
    super();
  }

  /** The broker closes this channel with an error (a refused permission, say). */
  failWith(message: string): void {
    this.emit('error', new Error(message));
    this.closed = true;
    this.emit('close');
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.emit('close');
    }
    return Promise.resolve();
  }

  publish(exchange: string, routingKey: string): boolean {
    this.published.push({ exchange, routingKey });
    return true;
  }

  // What a consumer's channel does: declarations (recorded), prefetch, consume, settle.
  readonly declared: string[] = [];
  /** Settled deliveries, by delivery tag, in the order they were settled. */
  readonly settled: { tag: number; how: 'ack' | 'nack'; requeue?: boolean }[] = [];
  readonly consumers = new Map<
    string,
    { queue: string; onMessage: (m: ConsumeMessage | null) => void }
  >();
  private deliveryTag = 0;

  assertExchange(name: string): Promise<object> {
    this.declared.push(`exchange ${name}`);
    return Promise.resolve({});
  }

  checkExchange(name: string): Promise<object> {
    this.declared.push(`checked ${name}`);
    return Promise.resolve({});
  }

  assertQueue(name: string): Promise<object> {
    this.declared.push(`queue ${name}`);
    return Promise.resolve({});
  }

  bindQueue(queue: string, exchange: string, routingKey: string): Promise<object> {
    this.declared.push(`bind ${queue} ${exchange} ${routingKey}`);
    return Promise.resolve({});
  }

  prefetch(): Promise<void> {
    return Promise.resolve();
  }

  consume(
    queue: string,
    onMessage: (message: ConsumeMessage | null) => void,
  ): Promise<{ consumerTag: string }> {
    const consumerTag = `ctag-${this.consumers.size + 1}`;
    this.consumers.set(consumerTag, { queue, onMessage });
    return Promise.resolve({ consumerTag });
  }

  /** Cancelled consumer tags. A cancelled consumer can still be delivered to: a message the broker sent before it saw the cancel. */
  readonly cancelled: string[] = [];

  cancel(consumerTag: string): Promise<object> {
    this.cancelled.push(consumerTag);
    return Promise.resolve({});
  }

  ack(message: ConsumeMessage): void {
    if (this.closed) throw new Error('Channel closed');
    this.settled.push({ tag: message.fields.deliveryTag, how: 'ack' });
  }

  nack(message: ConsumeMessage, _allUpTo?: boolean, requeue?: boolean): void {
    if (this.closed) throw new Error('Channel closed');
    this.settled.push({ tag: message.fields.deliveryTag, how: 'nack', requeue });
  }

  /** The broker delivers `content` to the consumer of `queue`; returns its delivery tag. */
  deliver(
    queue: string,
    content: Buffer,
    {
      headers = {},
      redelivered = false,
      messageId,
      type,
    }: {
      headers?: MessagePropertyHeaders;
      redelivered?: boolean;
      messageId?: string;
      type?: string;
    } = {},
  ): number {
    const consumer = [...this.consumers.values()].find((c) => c.queue === queue);
    if (!consumer) throw new Error(`Nothing consumes ${queue} on this channel`);
    const deliveryTag = (this.deliveryTag += 1);
    consumer.onMessage({
      content,
      fields: { deliveryTag, redelivered, exchange: '', routingKey: queue, consumerTag: '' },
      properties: {
        headers,
        messageId,
        type,
        contentType: 'application/cloudevents+json',
        contentEncoding: undefined,
        deliveryMode: 2,
        priority: undefined,
        correlationId: undefined,
        replyTo: undefined,
        expiration: undefined,
        timestamp: undefined,
        userId: undefined,
        appId: undefined,
        clusterId: undefined,
      },
    });
    return deliveryTag;
  }
}

export class FakeConnection extends EventEmitter {
  readonly channels: FakeChannel[] = [];
  closed = false;

  constructor(readonly url: string) {
    super();
  }

  createChannel(): Promise<FakeChannel> {
    if (this.closed) return Promise.reject(new Error('Connection closed'));
    const channel = new FakeChannel(this);
    this.channels.push(channel);
    return Promise.resolve(channel);
  }

  createConfirmChannel(): Promise<FakeChannel> {
    return this.createChannel();
  }

  /** The broker or the network drops the connection. */
  drop(message = 'Connection closed: 320 (CONNECTION-FORCED)'): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels) void channel.close();
    this.emit('error', new Error(message));
    this.emit('close', new Error(message));
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const channel of this.channels) void channel.close();
      this.emit('close');
    }
    return Promise.resolve();
  }
}

/** A broker of fake connections: refuses the URLs in `down`, records every attempt. */
export class FakeBroker {
  readonly attempts: string[] = [];
  readonly connections: FakeConnection[] = [];
  readonly down = new Set<string>();

  readonly connect: Connector = (url) => {
    const base = url.split('?')[0]!;
    this.attempts.push(base);
    if (this.down.has(base)) return Promise.reject(new Error('connect ECONNREFUSED'));
    const connection = new FakeConnection(base);
    this.connections.push(connection);
    return Promise.resolve(connection as unknown as ChannelModel);
  };

  /** The connection currently open (the last one made and not closed). */
  get current(): FakeConnection | undefined {
    return this.connections.filter((c) => !c.closed).at(-1);
  }
}
