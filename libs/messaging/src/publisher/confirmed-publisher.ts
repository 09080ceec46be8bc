import { pause, Semaphore } from '@app/platform';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type BrokerConnection } from '../connection/broker-connection.js';
import { type SupervisedChannel } from '../connection/supervised-channel.js';
import {
  asError,
  BrokerUnavailableError,
  PublishNotConfirmedError,
  UnroutableMessageError,
} from '../errors.js';
import { assertExchanges } from '../topology/apply-topology.js';
import { type Topology } from '../topology/topology.js';
import { type OutgoingMessage } from './amqp-message.js';

/** How often pending publishes are checked against their timeout. */
const TIMEOUT_SWEEP_MS = 250;

interface PendingPublish {
  channel: ConfirmChannel;
  deadline: number;
  settled: boolean;
  fail(error: Error): void;
}

/** Per open channel: returns not yet matched with their confirm, and the write gate. */
interface ChannelState {
  returned: Map<string, number>;
  /** Set while the channel's write buffer is full: resolves on its 'drain'. */
  drained?: Promise<void>;
}

/**
 * Publishes on a supervised confirm channel of its own connection. A publish resolves only
 * when the broker confirmed it and did not return it: a `mandatory` message that no queue
 * takes is returned before its confirm, matched by message id, and the publish rejects with
 * `UnroutableMessageError`.
 *
 * Backpressure: at most `maxInFlight` publishes await their confirm at once (the rest wait for
 * a slot); a write that fills the socket buffer (`publish` returns false) holds the next ones
 * until the channel drains; while the broker blocks the connection (a memory or disk alarm)
 * publishes wait for it to be lifted. Every wait counts against `publishTimeoutMs`, after
 * which the publish fails and its caller (the outbox, the consumer) keeps the message.
 * Refuses at once when disconnected, so nothing piles up in memory.
 */
export class ConfirmedPublisher {
  private channel?: SupervisedChannel<ConfirmChannel>;
  private readonly states = new WeakMap<ConfirmChannel, ChannelState>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly pending = new Set<PendingPublish>();
  private readonly slots: Semaphore;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly topology: Topology,
    private readonly publishTimeoutMs: number,
    /** Publishes awaiting their confirm at once. */
    readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {
    this.slots = new Semaphore(maxInFlight);
  }

  /** Opens the confirm channel; its setup declares the service's own exchanges on every open. */
  start(): SupervisedChannel<ConfirmChannel> {
    this.channel ??= this.connection.channel<ConfirmChannel>({
      name: `${this.topology.service} publisher`,
      confirm: true,
      setup: async (channel) => {
        this.states.set(channel, { returned: new Map() });
        channel.on('return', (message: ConsumeMessage) => this.onReturn(channel, message));
        await assertExchanges(channel, this.topology);
      },
      onClose: (channel) => {
        for (const entry of [...this.pending])
          if (entry.channel === channel)
            entry.fail(new Error('the channel closed before the broker confirmed'));
        this.states.delete(channel);
      },
    });
    this.sweeper ??= setInterval(() => this.sweepTimeouts(), TIMEOUT_SWEEP_MS).unref();
    return this.channel;
  }

  /** True while a publish would be written now (connected, the channel open, not blocked). */
  canPublish(): boolean {
    return this.connection.isWritable() && this.channel?.current() !== undefined;
  }

  /** Publishes one message and resolves once it is confirmed and not returned. */
  async publish(message: OutgoingMessage, options: { mandatory: boolean }): Promise<void> {
    const what = `${message.routingKey} (${message.properties.messageId})`;
    if (!this.channel || !this.connection.isConnected()) {
      throw new BrokerUnavailableError(`Cannot publish ${what}: RabbitMQ is not connected.`);
    }
    const deadline = Date.now() + this.publishTimeoutMs;
    const sent = this.send(message, options, deadline, what);
    this.inFlight.add(sent);
    try {
      await sent;
    } finally {
      this.inFlight.delete(sent);
    }
  }

  /** Waits (bounded) for outstanding publishes to be confirmed; returns how many are not. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), pause(deadline - Date.now())]);
    }
    return this.inFlight.size;
  }

  /** Publishes sent and not yet confirmed (or refused). */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Closes the channel. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const channel = this.channel;
    this.channel = undefined;
    if (channel) await this.connection.closeChannel(channel);
  }

  private async send(
    message: OutgoingMessage,
    options: { mandatory: boolean },
    deadline: number,
    what: string,
  ): Promise<void> {
    const blocked = this.connection.blockedReason();
    if (!(await within(this.connection.whenWritable(), deadline))) {
      throw new PublishNotConfirmedError(
        `RabbitMQ did not take ${what} within ${this.publishTimeoutMs} ms: ${blocked ? `it blocks publishing (${blocked}, a memory or disk alarm)` : 'it is not connected'}.`,
      );
    }
    if (!(await this.slots.acquire(deadline))) {
      throw new PublishNotConfirmedError(
        `Cannot publish ${what}: ${this.maxInFlight} publishes already await their confirm (${this.publishTimeoutMs} ms).`,
      );
    }
    try {
      const raw = this.channel?.current();
      if (!raw) {
        throw new BrokerUnavailableError(
          `Cannot publish ${what}: the publisher channel is not open yet.`,
        );
      }
      const state = this.states.get(raw);
      if (state?.drained && !(await within(state.drained, deadline))) {
        throw new PublishNotConfirmedError(
          `RabbitMQ did not take ${what} within ${this.publishTimeoutMs} ms: the connection's write buffer stayed full.`,
        );
      }
      try {
        await this.confirmed(raw, message, options);
      } catch (error) {
        if (error instanceof BrokerUnavailableError) throw error;
        throw new PublishNotConfirmedError(
          `RabbitMQ did not confirm ${what} on ${message.exchange}: ${asError(error).message}`,
        );
      }
      if (this.takeReturn(raw, message.properties.messageId)) {
        throw new UnroutableMessageError(
          `RabbitMQ returned ${what} from ${message.exchange}: ` +
            `no queue is bound for routing key "${message.routingKey}". Start the consuming service so it declares its queue; the event stays pending until then.`,
        );
      }
    } finally {
      this.slots.release();
    }
  }

  /** Writes one message on `raw` and resolves on its confirm. */
  private confirmed(
    raw: ConfirmChannel,
    message: OutgoingMessage,
    options: { mandatory: boolean },
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: PendingPublish = {
        channel: raw,
        deadline: Date.now() + this.publishTimeoutMs,
        settled: false,
        fail: (error) => {
          if (entry.settled) return;
          entry.settled = true;
          this.pending.delete(entry);
          reject(error);
        },
      };
      this.pending.add(entry);
      try {
        const written = raw.publish(
          message.exchange,
          message.routingKey,
          message.body,
          { ...message.properties, mandatory: options.mandatory },
          (error) => {
            if (error) {
              // amqplib reports a nack here (a closed channel fails the entry elsewhere).
              return entry.fail(
                new Error(
                  'the broker refused it (nack): a queue it routes to is full (x-overflow=reject-publish) or the broker is short of memory or disk',
                ),
              );
            }
            if (entry.settled) return;
            entry.settled = true;
            this.pending.delete(entry);
            resolve();
          },
        );
        if (!written) this.holdUntilDrained(raw);
      } catch (error) {
        entry.fail(asError(error)); // the channel closed under us
      }
    });
  }

  /** The socket buffer is full: later publishes on `raw` wait for its 'drain' (or its close). */
  private holdUntilDrained(raw: ConfirmChannel): void {
    const state = this.states.get(raw);
    if (!state || state.drained) return;
    state.drained = new Promise<void>((resolve) => {
      const done = () => {
        raw.removeListener('drain', done);
        raw.removeListener('close', done);
        state.drained = undefined;
        resolve();
      };
      raw.once('drain', done);
      raw.once('close', done);
    });
  }

  private sweepTimeouts(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.deadline <= now)
        entry.fail(new Error(`no confirm within ${this.publishTimeoutMs} ms`));
    }
  }

  private onReturn(channel: ConfirmChannel, message: ConsumeMessage): void {
    const id = message.properties.messageId as string | undefined;
    const returned = this.states.get(channel)?.returned;
    if (!id || !returned) return;
    returned.set(id, (returned.get(id) ?? 0) + 1);
  }

  private takeReturn(channel: ConfirmChannel, id: string): boolean {
    const returned = this.states.get(channel)?.returned;
    const count = returned?.get(id);
    if (!returned || !count) return false;
    if (count === 1) returned.delete(id);
    else returned.set(id, count - 1);
    return true;
  }
}

/** Publishes awaiting their confirm at once, per publisher (the relay's batch is 200). */
export const DEFAULT_MAX_IN_FLIGHT = 1_000;

/** True when `promise` resolved before `deadline`. */
async function within(promise: Promise<void>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  return result;
}
