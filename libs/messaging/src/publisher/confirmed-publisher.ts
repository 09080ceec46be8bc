import { Logger } from '@nestjs/common';
import { type ChannelWrapper } from 'amqp-connection-manager';
import { type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { type BrokerConnection } from '../connection/broker-connection.js';
import {
  BrokerUnavailableError,
  PublishNotConfirmedError,
  TopologyMismatchError,
  UnroutableMessageError,
} from '../errors.js';
import { applyTopology } from '../topology/apply-topology.js';
import { type Topology } from '../topology/topology.js';
import { type OutgoingMessage } from './amqp-message.js';

/** How often pending publishes are checked against their timeout. */
const TIMEOUT_SWEEP_MS = 250;

interface PendingPublish {
  deadline: number;
  settled: boolean;
  fail(error: Error): void;
}

/**
 * Publishes on a confirm channel. A publish resolves only when the broker confirmed it and did
 * not return it: a `mandatory` message that no queue takes is returned before its confirm,
 * matched by message id, and the publish rejects with `UnroutableMessageError`. It refuses at
 * once when disconnected, fails when its channel closes, and times out otherwise, so nothing
 * piles up in memory. amqp-connection-manager keeps the channel (reconnects, re-runs the
 * topology); messages go straight to the current amqplib channel, without the wrapper's
 * per-message queue and timer.
 */
export class ConfirmedPublisher {
  private readonly logger = new Logger(ConfirmedPublisher.name);
  private channel?: ChannelWrapper;
  /** Message ids returned by the broker and not yet matched with their confirm. */
  private readonly returned = new Map<string, number>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private current?: ConfirmChannel;
  private readonly pending = new Set<PendingPublish>();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly topology: Topology,
    private readonly publishTimeoutMs: number,
  ) {}

  /** Opens the confirm channel; its setup re-declares the topology on each reconnect. */
  start(): ChannelWrapper {
    this.channel ??= this.connection.createChannel({
      name: `${this.topology.service}-publisher`,
      confirm: true,
      publishTimeout: this.publishTimeoutMs,
      setup: async (channel: ConfirmChannel) => {
        channel.on('return', (message: ConsumeMessage) => this.onReturn(message));
        channel.once('close', () => {
          if (this.current === channel) this.current = undefined;
          this.failPending(
            new PublishNotConfirmedError('the channel closed before the broker confirmed'),
          );
        });
        try {
          await applyTopology(channel, this.topology);
        } catch (error) {
          // Only a mismatch is fatal; anything else (a closed channel) is retried on reconnect.
          if (error instanceof TopologyMismatchError) this.connection.reportFatal(error);
          throw error;
        }
        this.current = channel;
      },
    });
    this.sweeper ??= setInterval(() => this.sweepTimeouts(), TIMEOUT_SWEEP_MS).unref();
    this.channel.on('error', (error: Error) =>
      this.logger.warn(`Publisher channel setup failed: ${error.message}`),
    );
    return this.channel;
  }

  /** Publishes one message and resolves once it is confirmed and not returned. */
  async publish(message: OutgoingMessage, options: { mandatory: boolean }): Promise<void> {
    const channel = this.channel;
    if (!channel || !this.connection.isConnected()) {
      throw new BrokerUnavailableError(
        `Cannot publish ${message.routingKey} (${message.properties.messageId}): RabbitMQ is not connected.`,
      );
    }
    const raw = this.current;
    if (!raw) {
      throw new BrokerUnavailableError(
        `Cannot publish ${message.routingKey} (${message.properties.messageId}): the publisher channel is not open yet.`,
      );
    }
    const sent = new Promise<void>((resolve, reject) => {
      const entry: PendingPublish = {
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
        raw.publish(
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
      } catch (error) {
        entry.fail(error as Error); // the channel closed under us
      }
    });
    this.inFlight.add(sent);
    try {
      await sent;
    } catch (error) {
      throw new PublishNotConfirmedError(
        `RabbitMQ did not confirm ${message.routingKey} (${message.properties.messageId}) on ${message.exchange}: ${(error as Error).message}`,
      );
    } finally {
      this.inFlight.delete(sent);
    }
    if (this.takeReturn(message.properties.messageId)) {
      throw new UnroutableMessageError(
        `RabbitMQ returned ${message.routingKey} (${message.properties.messageId}) from ${message.exchange}: ` +
          `no queue is bound for routing key "${message.routingKey}". Start the consuming service so it declares its queue; the event stays pending until then.`,
      );
    }
  }

  /** Waits (bounded) for outstanding publishes to be confirmed. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), delay(deadline - Date.now())]);
    }
  }

  /** Closes the channel. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.channel?.close();
    this.channel = undefined;
    this.current = undefined;
  }

  private sweepTimeouts(): void {
    const now = Date.now();
    for (const entry of this.pending) {
      if (entry.deadline <= now)
        entry.fail(new Error(`no confirm within ${this.publishTimeoutMs} ms`));
    }
  }

  private failPending(error: Error): void {
    for (const entry of [...this.pending]) entry.fail(error);
  }

  private onReturn(message: ConsumeMessage): void {
    const id = message.properties.messageId as string | undefined;
    if (!id) return;
    this.returned.set(id, (this.returned.get(id) ?? 0) + 1);
    this.logger.debug(`Returned by broker: ${message.fields.routingKey} ${id}`);
  }

  private takeReturn(id: string): boolean {
    const count = this.returned.get(id);
    if (!count) return false;
    if (count === 1) this.returned.delete(id);
    else this.returned.set(id, count - 1);
    return true;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
