import { EventEmitter } from 'node:events';
import { type ChannelModel } from 'amqplib';
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
