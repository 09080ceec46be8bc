import { Logger } from '@nestjs/common';
import { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { TopologyMismatchError } from '../errors.js';
import { Backoff } from './backoff.js';

/** First wait before a channel whose setup failed, or that the broker closed, is opened again. */
export const CHANNEL_RETRY_INITIAL_MS = 1_000;
/** Longest such wait. */
export const CHANNEL_RETRY_MAX_MS = 60_000;
/** Longest wait while a producer's exchange is missing: it appears when the producer starts. */
const MISSING_EXCHANGE_RETRY_MAX_MS = 5_000;
/** A channel that stayed up this long starts its back-off from the beginning when it fails. */
const HEALTHY_AFTER_MS = 30_000;

/** What a supervised channel is for and how it is set up on every (re)open. */
export interface ChannelSpec<C extends Channel> {
  /** For log lines: `inventory consumer of inventory.order.placed`. */
  name: string;
  /** A confirm channel (publishers) or a plain one (consumers). */
  confirm: C extends ConfirmChannel ? true : false;
  /** Declares what the channel needs and starts consuming; runs on every open. */
  setup(channel: C): Promise<void>;
  /** The channel instance went away (closed by the broker, by us, or with its connection). */
  onClose?(channel: C): void;
  /** A setup error that no retry can mend (a topology mismatch): reported, not retried. */
  onFatal?(error: Error): void;
}

/**
 * One AMQP channel kept open across channel errors and reconnects. Every open runs the spec's
 * setup. A channel error (a refused permission, a missing exchange, a deleted queue) closes
 * this channel only: the connection and the other channels carry on, and this one is opened
 * again after an exponential back-off (1 s doubling to 60 s), with one log line per attempt
 * that says what the broker refused. A channel with no `error` listener would let amqplib
 * throw the error up into the connection and take every channel down with it (the reconnect
 * storm of a single missing permission).
 */
export class SupervisedChannel<C extends Channel = Channel> {
  private readonly logger = new Logger('BrokerChannel');
  private readonly backoff = new Backoff(CHANNEL_RETRY_INITIAL_MS, CHANNEL_RETRY_MAX_MS);
  private model?: ChannelModel;
  private live?: C;
  private opening?: C;
  private liveSince = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly waiting = new Set<() => void>();

  constructor(readonly spec: ChannelSpec<C>) {}

  /** The open, set-up channel, if there is one now. */
  current(): C | undefined {
    return this.live;
  }

  /** Failed opens since the channel was last healthy (0 when it is up). */
  get failures(): number {
    return this.backoff.attempts;
  }

  /** Resolves once the channel is open and set up (or `close` is called). */
  whenOpen(): Promise<void> {
    if (this.live || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiting.add(resolve));
  }

  /** Called by the connection when it (re)connects. */
  attach(model: ChannelModel): void {
    this.model = model;
    clearTimeout(this.timer);
    this.timer = undefined;
    void this.open(model);
  }

  /** Called by the connection when it is lost: the channel went with it. */
  detach(): void {
    this.model = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const gone = this.live ?? this.opening;
    this.live = this.opening = undefined;
    if (gone) this.spec.onClose?.(gone);
  }

  /** Closes the live channel and opens it again after the back-off (a consumer the broker cancelled). */
  reopen(reason: string): void {
    const channel = this.live;
    if (!channel) return;
    this.live = undefined;
    this.spec.onClose?.(channel);
    void channel.close().catch(() => undefined);
    this.retry(new Error(reason), 'reopening');
  }

  /** Closes the channel for good. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const channel = this.live ?? this.opening;
    this.live = this.opening = undefined;
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
    if (!channel) return;
    this.spec.onClose?.(channel);
    await channel.close().catch(() => undefined);
  }

  private async open(model: ChannelModel): Promise<void> {
    if (this.closed || model !== this.model) return;
    let channel: C;
    try {
      channel = (await (this.spec.confirm
        ? model.createConfirmChannel()
        : model.createChannel())) as unknown as C;
    } catch (error) {
      if (model === this.model) this.retry(error, 'opening');
      return;
    }
    if (this.closed || model !== this.model) {
      await channel.close().catch(() => undefined);
      return;
    }
    // The broker's reason for closing arrives as 'error' just before 'close'.
    channel.on('error', () => undefined);
    channel.once('close', () => this.lost(channel));
    this.opening = channel;
    try {
      await this.spec.setup(channel);
    } catch (error) {
      const mine = this.opening === channel;
      if (mine) this.opening = undefined;
      await channel.close().catch(() => undefined);
      if (mine) this.spec.onClose?.(channel);
      if (error instanceof TopologyMismatchError) {
        this.spec.onFatal?.(error);
        return;
      }
      this.retry(error, 'setting up');
      return;
    }
    if (this.opening !== channel) return; // lost during its setup: that path retries
    this.opening = undefined;
    this.live = channel;
    this.liveSince = Date.now();
    if (this.backoff.attempts > 0)
      this.logger.log(
        `${this.spec.name}: channel open again after ${this.backoff.attempts} failed attempt(s)`,
      );
    this.backoff.reset();
    for (const resolve of this.waiting) resolve();
    this.waiting.clear();
  }

  private lost(channel: C): void {
    if (channel === this.opening) {
      // Closed by the broker during its setup: the setup's rejection schedules the retry.
      return;
    }
    if (channel !== this.live) return;
    this.live = undefined;
    this.spec.onClose?.(channel);
    if (this.closed || !this.model) return; // the connection went: reopened on reconnect
    if (Date.now() - this.liveSince > HEALTHY_AFTER_MS) this.backoff.reset();
    this.retry(new Error('the broker closed the channel'), 'reopening');
  }

  private retry(error: unknown, doing: 'opening' | 'setting up' | 'reopening'): void {
    if (this.closed || !this.model || this.timer) return;
    const message = error instanceof Error ? error.message : String(error);
    const backoff = this.backoff.next();
    const delay = /NOT.FOUND - no exchange/.test(message)
      ? Math.min(backoff, MISSING_EXCHANGE_RETRY_MAX_MS)
      : backoff;
    this.logger.warn(
      `${this.spec.name}: ${doing} the channel failed (${message})${channelErrorHint(message)}; trying again in ${delay} ms`,
    );
    const model = this.model;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.open(model);
    }, delay);
    this.timer.unref();
  }
}

/** What to do about a channel error, from the broker's reply code. */
export function channelErrorHint(message: string): string {
  if (/ACCESS.REFUSED/.test(message))
    return ": the broker user lacks a permission on the resource named above; grant it (deploy/rabbitmq/definitions.json holds each service user's permissions) and the channel recovers on its next attempt";
  if (/NOT.FOUND - no exchange/.test(message))
    return ': the exchange is declared by the service that publishes on it; start that service (consumers only check that it exists)';
  if (/NOT.FOUND - no queue/.test(message))
    return ': the queue was deleted; it is declared again on the next attempt';
  return '';
}
