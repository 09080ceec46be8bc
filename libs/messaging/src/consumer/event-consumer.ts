import { createHash } from 'node:crypto';
import { type DecodedEvent, type EventRegistry, UnknownEventTypeError } from '@app/events';
import { contextFrom, inSpan, SpanKind, withLogContext } from '@app/platform';
import { Logger } from '@nestjs/common';
import { type ChannelWrapper } from 'amqp-connection-manager';
import { type Channel, type ConsumeMessage } from 'amqplib';
import { type BrokerConnection } from '../connection/broker-connection.js';
import { asError, TopologyMismatchError } from '../errors.js';
import { type HandlerRunner } from '../inbox/transactional-runner.js';
import { type ResolvedMessagingOptions } from '../messaging.options.js';
import { type ConfirmedPublisher } from '../publisher/confirmed-publisher.js';
import { applyTopology } from '../topology/apply-topology.js';
import { type Subscription, type Topology } from '../topology/topology.js';
import { type CrashSuspects } from './crash-suspects.js';
import { type DeliveryInfo } from './event-context.js';
import {
  classifyFailure,
  deadLetterHeaders,
  type ExceptionType,
  Headers,
  originOf,
  retryCountOf,
  retryHeaders,
} from './failure-policy.js';
import { IsolationLock } from './isolation-lock.js';
import { type RegisteredHandler } from './registered-handler.js';

/** A delivery seen again after its consumer went away holding it: maybe it killed the process. */
export class CrashSuspectError extends Error {
  override readonly name = 'CrashSuspectError';
  readonly code = 'MESSAGING.CRASH_SUSPECT';
}

/** Observers of the pipeline, for metrics and tests. */
export interface ConsumerEvents {
  onHandled?(queue: string, type: string, ms: number): void;
  onDuplicate?(queue: string, type: string): void;
  onRetried?(queue: string, type: string, level: number): void;
  onDeadLettered?(queue: string, type: string, exceptionType: ExceptionType): void;
}

/**
 * Consumes the service's queues with manual acks: parse -> upcast -> validate -> handle in a
 * transaction with the inbox row -> ack. A failure is routed by `classifyFailure`: to the next
 * wait queue (`<service>.retry`, keyed by the wait queue) or to the DLQ (`<service>.dlx`, keyed
 * by the origin queue), published with confirms before the original is acked. A redelivered
 * message runs alone; if its consumer dies during that run it is the crash suspect and moves to
 * the next retry level before it runs again (see `CrashSuspects`). Messages of one subject run
 * one at a time, in arrival order; different subjects run concurrently.
 */
export class EventConsumer {
  private readonly logger = new Logger(EventConsumer.name);
  private channel?: ChannelWrapper;
  private readonly consumerTags = new Map<Channel, string[]>();
  private readonly closedChannels = new WeakSet<Channel>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private stopping = false;
  private readonly lock = new IsolationLock();

  constructor(
    private readonly connection: BrokerConnection,
    private readonly publisher: ConfirmedPublisher,
    private readonly topology: Topology,
    private readonly registry: EventRegistry,
    private readonly handlers: ReadonlyMap<string, readonly RegisteredHandler[]>,
    private readonly runner: HandlerRunner,
    private readonly suspects: CrashSuspects,
    private readonly options: ResolvedMessagingOptions,
    private readonly events: ConsumerEvents = {},
  ) {}

  /** Opens the consumer channel; its setup declares the topology and consumes every queue. */
  start(): void {
    if (this.channel || !this.topology.subscriptions.length) return;
    this.channel = this.connection.createChannel({
      name: `${this.topology.service}-consumer`,
      confirm: false,
      setup: async (channel: Channel) => {
        channel.once('close', () => this.closedChannels.add(channel));
        try {
          await applyTopology(channel, this.topology);
        } catch (error) {
          // Only a mismatch is fatal; anything else (a closed channel) is retried on reconnect.
          if (error instanceof TopologyMismatchError) this.connection.reportFatal(error);
          throw error;
        }
        if (this.stopping) return;
        const tags: string[] = [];
        for (const subscription of this.topology.subscriptions) {
          await channel.prefetch(this.options.prefetch, false);
          const { consumerTag } = await channel.consume(
            subscription.queue,
            (message) => this.onDelivery(channel, subscription, message),
            { noAck: false },
          );
          tags.push(consumerTag);
        }
        this.consumerTags.set(channel, tags);
      },
    });
    this.channel.on('error', (error: Error) =>
      this.logger.warn(`Consumer channel setup failed: ${error.message}`),
    );
  }

  /** Stops consuming, lets running handlers finish (bounded), requeues what had not started. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const [channel, tags] of this.consumerTags) {
      if (this.closedChannels.has(channel)) continue;
      for (const tag of tags) await channel.cancel(tag).catch(() => undefined);
    }
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), sleep(deadline - Date.now())]);
    }
    if (this.inFlight.size) {
      this.logger.warn(
        `${this.inFlight.size} handler(s) still running at shutdown; the broker will redeliver them`,
      );
    }
    await this.channel?.close();
    this.channel = undefined;
  }

  /** Messages being handled or waiting behind their subject. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  private onDelivery(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage | null,
  ): void {
    if (!message) {
      this.logger.error(
        `RabbitMQ cancelled the consumer of ${subscription.queue} (queue deleted?); reconnecting`,
      );
      return;
    }
    if (this.stopping) {
      this.settle(channel, message, 'requeue');
      return;
    }
    const task = this.route(channel, subscription, message);
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async route(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage,
  ): Promise<void> {
    const retryCount = retryCountOf(message.properties.headers);
    if (!message.fields.redelivered) {
      return this.lock.shared(() => this.process(channel, subscription, message, retryCount));
    }
    const deliveries = Number(message.properties.headers?.[Headers.deliveryCount] ?? 0);
    if (deliveries >= this.options.deliveryLimit - 1) {
      const error = new CrashSuspectError(
        `Delivered ${deliveries + 1} times without an outcome; the queue's delivery limit is ${this.options.deliveryLimit}`,
      );
      return this.fail(channel, subscription, message, error, retryCount, 'delivery-limit');
    }
    return this.lock.exclusive(() => this.runAlone(channel, subscription, message, retryCount));
  }

  /** A redelivered message runs alone under a committed marker; a surviving marker convicts it. */
  private async runAlone(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage,
    retryCount: number,
  ): Promise<void> {
    if (this.stopping) return this.settle(channel, message, 'requeue');
    const id = messageKey(message);
    try {
      if (await this.suspects.crashedWhileRunning(subscription.queue, id)) {
        await this.suspects.clear(subscription.queue, id);
        const error = new CrashSuspectError(
          'The consumer died while running this message alone (crash suspect); moved to the next retry level before running again',
        );
        return this.fail(channel, subscription, message, error, retryCount);
      }
      await this.suspects.markRunning(subscription.queue, id);
    } catch (error) {
      return this.fail(channel, subscription, message, error, retryCount);
    }
    await this.process(channel, subscription, message, retryCount);
    await this.suspects.clear(subscription.queue, id).catch((error: Error) => {
      this.logger.warn(`Cannot clear the crash marker of ${id}: ${error.message}`);
    });
  }

  private async process(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage,
    retryCount: number,
  ): Promise<void> {
    let event: DecodedEvent;
    try {
      event = this.registry.decode(message.content);
      if (event.type !== subscription.type) {
        throw new UnknownEventTypeError(
          `Queue ${subscription.queue} has no handler for ${event.type}; it only handles ${subscription.type}.`,
        );
      }
    } catch (error) {
      return this.fail(channel, subscription, message, error, retryCount);
    }
    const key = event.envelope.subject ?? event.envelope.id;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() =>
      this.handle(channel, subscription, message, event, retryCount),
    );
    this.chains.set(key, next);
    try {
      await next;
    } finally {
      if (this.chains.get(key) === next) this.chains.delete(key);
    }
  }

  private async handle(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage,
    event: DecodedEvent,
    retryCount: number,
  ): Promise<void> {
    if (this.stopping) return this.settle(channel, message, 'requeue');
    const delivery: DeliveryInfo = {
      queue: subscription.queue,
      messageId: event.envelope.id,
      retryCount,
      redelivered: message.fields.redelivered,
    };
    const started = performance.now();
    const logContext = {
      correlationId: event.envelope.correlationid,
      eventId: event.envelope.id,
      eventType: event.type,
      ...(event.envelope.subject ? { subject: event.envelope.subject } : {}),
    };
    const incoming = message.properties.headers?.traceparent as string | undefined;
    try {
      await inSpan(
        `${subscription.queue} process`,
        {
          kind: SpanKind.CONSUMER,
          parent: contextFrom(incoming ?? event.envelope.traceparent),
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.operation.type': 'process',
            'messaging.destination.name': subscription.queue,
            'messaging.rabbitmq.destination.routing_key': event.type,
            'messaging.message.id': event.envelope.id,
            'messaging.message.conversation_id': event.envelope.correlationid,
          },
        },
        async () => {
          for (const handler of this.handlers.get(subscription.type) ?? []) {
            const result = await inSpan(
              handler.name,
              { attributes: { 'messaging.consumer.group.name': handler.name } },
              () =>
                withLogContext(logContext, () =>
                  this.runner.run(handler.name, event, delivery, (context) =>
                    handler.invoke(event, context),
                  ),
                ),
            );
            if (result === 'duplicate') {
              this.events.onDuplicate?.(subscription.queue, event.type);
              this.logger.debug(
                `Duplicate ${event.type} ${event.envelope.id} skipped by ${handler.name}`,
              );
            }
          }
        },
      );
    } catch (error) {
      return this.fail(channel, subscription, message, error, retryCount);
    }
    const ms = performance.now() - started;
    this.events.onHandled?.(subscription.queue, event.type, ms);
    this.settle(channel, message, 'ack');
    withLogContext(logContext, () =>
      this.logger.log(`Handled ${event.type} from ${subscription.queue} in ${ms.toFixed(1)} ms`),
    );
  }

  private async fail(
    channel: Channel,
    subscription: Subscription,
    message: ConsumeMessage,
    thrown: unknown,
    retryCount: number,
    forced?: ExceptionType,
  ): Promise<void> {
    // Whatever was thrown (`throw undefined` included) becomes an Error once, here: the code
    // below reads its message after the retry or dead-letter copy is confirmed, and a second
    // failure there would requeue the original and publish another copy on every redelivery.
    const error = asError(thrown);
    const outcome = forced
      ? ({ kind: 'dead-letter', exceptionType: forced } as const)
      : classifyFailure(error, retryCount, subscription);
    const origin = originOf(message.properties.headers, message.fields);
    const { headers: _headers, ...properties } = message.properties;
    const context = `${subscription.queue} ${String(message.properties.type ?? '?')} ${String(message.properties.messageId ?? '?')} correlationId=${String(message.properties.correlationId ?? '-')}`;
    try {
      if (outcome.kind === 'retry') {
        await this.publisher.publish(
          {
            exchange: this.topology.retryExchange,
            routingKey: outcome.waitQueue,
            body: message.content,
            properties: {
              ...properties,
              messageId: String(properties.messageId ?? ''),
              persistent: true,
              headers: retryHeaders(message.properties.headers, origin, outcome.level, error),
            },
          },
          { mandatory: true },
        );
        this.events.onRetried?.(subscription.queue, String(message.properties.type), outcome.level);
        this.logger.warn(
          `Retry ${outcome.level}/${subscription.waitQueues.length} in ${outcome.delayMs} ms: ${context}: ${error.message}`,
        );
      } else {
        await this.publisher.publish(
          {
            exchange: this.topology.deadLetterExchange,
            routingKey: subscription.queue,
            body: message.content,
            properties: {
              ...properties,
              messageId: String(properties.messageId ?? ''),
              persistent: true,
              headers: deadLetterHeaders(
                message.properties.headers,
                origin,
                subscription.queue,
                outcome.exceptionType,
                error,
                retryCount,
              ),
            },
          },
          { mandatory: true },
        );
        this.events.onDeadLettered?.(
          subscription.queue,
          String(message.properties.type),
          outcome.exceptionType,
        );
        this.logger.error(
          `Dead-lettered (${outcome.exceptionType}) to ${subscription.deadLetterQueue}: ${context}: ${error.message}`,
        );
      }
    } catch (publishError) {
      // The failure could not be recorded; hand the message back. Its redelivery is a crash
      // suspect and the broker's delivery limit bounds the loop.
      this.logger.error(`Cannot move ${context} after a failure: ${asError(publishError).message}`);
      return this.settle(channel, message, 'requeue');
    }
    this.settle(channel, message, 'ack');
  }

  private settle(channel: Channel, message: ConsumeMessage, how: 'ack' | 'requeue'): void {
    if (this.closedChannels.has(channel)) return; // the broker requeued it with the channel
    try {
      if (how === 'ack') channel.ack(message);
      else channel.nack(message, false, true);
    } catch (error) {
      this.logger.warn(
        `Cannot ${how} delivery ${message.fields.deliveryTag}: ${asError(error).message}`,
      );
    }
  }
}

/** The message id, or a digest of the body for a message without one. */
function messageKey(message: ConsumeMessage): string {
  const id = message.properties.messageId as string | undefined;
  return id ?? `sha256:${createHash('sha256').update(message.content).digest('hex')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}
