import { createHash } from 'node:crypto';
import { type DecodedEvent, type EventRegistry, UnknownEventTypeError } from '@app/events';
import { contextFrom, inSpan, pause, SpanKind, withLogContext } from '@app/platform';
import { Logger } from '@nestjs/common';
import { type Channel, type ConsumeMessage, type MessagePropertyHeaders } from 'amqplib';
import { type BrokerConnection } from '../connection/broker-connection.js';
import { type SupervisedChannel } from '../connection/supervised-channel.js';
import { asError } from '../errors.js';
import { type HandlerRunner } from '../inbox/transactional-runner.js';
import { type ResolvedMessagingOptions } from '../messaging.options.js';
import { type ConfirmedPublisher } from '../publisher/confirmed-publisher.js';
import { applySubscription } from '../topology/apply-topology.js';
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

/** Observers of the pipeline's outcomes: the metrics, and those of `MessagingService.observe`. */
export interface ConsumerEvents {
  onHandled?(queue: string, type: string, ms: number): void;
  onDuplicate?(queue: string, type: string): void;
  onRetried?(queue: string, type: string, level: number): void;
  onDeadLettered?(queue: string, type: string, exceptionType: ExceptionType): void;
}

/** Tells each of `observers` (a live collection: read at every outcome) of every outcome. */
export function fanOut(observers: Iterable<ConsumerEvents>): Required<ConsumerEvents> {
  return {
    onHandled: (queue, type, ms) => {
      for (const observer of observers) observer.onHandled?.(queue, type, ms);
    },
    onDuplicate: (queue, type) => {
      for (const observer of observers) observer.onDuplicate?.(queue, type);
    },
    onRetried: (queue, type, level) => {
      for (const observer of observers) observer.onRetried?.(queue, type, level);
    },
    onDeadLettered: (queue, type, exceptionType) => {
      for (const observer of observers) observer.onDeadLettered?.(queue, type, exceptionType);
    },
  };
}

/** What a consumer works with; `createTransport` wires the production ones. */
export interface ConsumerDependencies {
  /** The connection its channels are opened on (the service's consume connection). */
  connection: BrokerConnection;
  /** Publishes the retry and dead-letter copies, with confirms. */
  publisher: Pick<ConfirmedPublisher, 'publish'>;
  topology: Topology;
  registry: EventRegistry;
  /** The handlers of each event type. */
  handlers: ReadonlyMap<string, readonly RegisteredHandler[]>;
  runner: HandlerRunner;
  suspects: Pick<CrashSuspects, 'crashedWhileRunning' | 'markRunning' | 'clear'>;
  options: Pick<ResolvedMessagingOptions, 'prefetch' | 'deliveryLimit' | 'shutdownTimeoutMs'>;
  /** Told of each outcome (the metrics, `MessagingService.observe`). */
  events?: ConsumerEvents;
}

/** One message received on one channel for one subscription, as it travels the pipeline. */
interface Delivery {
  channel: Channel;
  subscription: Subscription;
  message: ConsumeMessage;
  /** The retry level it is at (`x-retry-count`). */
  retryCount: number;
}

/**
 * Consumes the service's queues with manual acks: parse -> upcast -> validate -> handle in a
 * transaction with the inbox row -> ack. Each queue has a supervised channel of its own: a
 * channel error (a refused permission, a deleted queue) stops that queue only, and it is
 * opened again with a back-off while the others consume on. A failure is routed by
 * `classifyFailure`: to the next wait queue (`<service>.wait`, keyed by the wait queue, with
 * the origin queue in `CC`) or to the DLQ (`<service>.dlx`, keyed by the origin queue),
 * published with confirms before the original is acked. A redelivered message runs alone; if its consumer dies during that run it
 * is the crash suspect and moves to the next retry level before it runs again (see
 * `CrashSuspects`). Messages of one subject run one at a time, in arrival order; different
 * subjects run concurrently.
 */
export class EventConsumer {
  private readonly logger = new Logger(EventConsumer.name);
  private readonly channels: SupervisedChannel<Channel>[] = [];
  /** The consumer tag of each live channel; a channel that closed is no longer here. */
  private readonly consumers = new Map<Channel, string>();
  private readonly closedChannels = new WeakSet<Channel>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private stopping = false;
  private readonly lock = new IsolationLock();

  private readonly connection: BrokerConnection;
  private readonly publisher: ConsumerDependencies['publisher'];
  private readonly topology: Topology;
  private readonly registry: EventRegistry;
  private readonly handlers: ConsumerDependencies['handlers'];
  private readonly runner: HandlerRunner;
  private readonly suspects: ConsumerDependencies['suspects'];
  private readonly options: ConsumerDependencies['options'];
  private readonly events: ConsumerEvents;

  constructor(dependencies: ConsumerDependencies) {
    ({
      connection: this.connection,
      publisher: this.publisher,
      topology: this.topology,
      registry: this.registry,
      handlers: this.handlers,
      runner: this.runner,
      suspects: this.suspects,
      options: this.options,
    } = dependencies);
    this.events = dependencies.events ?? {};
  }

  /** Opens one channel per subscription; each setup declares its queues and consumes. */
  start(): void {
    if (this.channels.length) return;
    for (const subscription of this.topology.subscriptions) {
      const supervised: SupervisedChannel<Channel> = this.connection.channel<Channel>({
        name: `${this.topology.service} consumer of ${subscription.queue}`,
        confirm: false,
        setup: async (channel) => {
          await applySubscription(channel, this.topology, subscription);
          if (this.stopping) return;
          await channel.prefetch(this.options.prefetch, false);
          const { consumerTag } = await channel.consume(
            subscription.queue,
            (message) =>
              message
                ? this.onDelivery(channel, subscription, message)
                : this.onCancelled(supervised, subscription),
            { noAck: false },
          );
          this.consumers.set(channel, consumerTag);
        },
        onClose: (channel) => {
          // The broker requeues what this channel held: none of it may be settled later.
          this.closedChannels.add(channel);
          this.consumers.delete(channel);
        },
      });
      this.channels.push(supervised);
    }
  }

  /** True once every subscription's channel is open and consuming. */
  isConsuming(): boolean {
    return this.channels.every((channel) => channel.current() !== undefined);
  }

  /** Resolves once every subscription's channel has opened. */
  async whenConsuming(): Promise<void> {
    await Promise.all(this.channels.map((channel) => channel.whenOpen()));
  }

  /** The queues whose channel is not open now (a permission refused, a queue deleted...). */
  failingQueues(): string[] {
    return this.topology.subscriptions
      .filter((_, index) => this.channels[index]!.current() === undefined)
      .map((subscription) => subscription.queue);
  }

  /**
   * Stops consuming, then handles what was already received (bounded by
   * `shutdownTimeoutMs`): a message requeued at shutdown counts as a delivery against the
   * quorum queue's delivery limit, so a rolling deploy would otherwise wear it down. What is
   * still running at the deadline is requeued by the broker when the channel closes.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const [channel, tag] of [...this.consumers]) {
      await channel.cancel(tag).catch(() => undefined);
    }
    const deadline = Date.now() + this.options.shutdownTimeoutMs;
    const pending = this.inFlight.size;
    while (this.inFlight.size && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.inFlight]), pause(deadline - Date.now())]);
    }
    if (this.inFlight.size) {
      this.logger.warn(
        `${this.inFlight.size} of ${pending} received message(s) still running at shutdown; the broker will redeliver them`,
      );
    } else if (pending) {
      this.logger.log(`Handled the ${pending} message(s) received before the shutdown`);
    }
    for (const channel of this.channels) await this.connection.closeChannel(channel);
    this.channels.length = 0;
  }

  /** Messages being handled or waiting behind their subject. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** The broker cancelled the consumer (its queue was deleted): declare and consume again. */
  private onCancelled(channel: SupervisedChannel<Channel>, subscription: Subscription): void {
    if (this.stopping) return;
    this.logger.warn(
      `RabbitMQ cancelled the consumer of ${subscription.queue} (the queue was deleted, or its node left the cluster); declaring the queue again and consuming from it anew`,
    );
    channel.reopen(`the broker cancelled the consumer of ${subscription.queue}`);
  }

  private onDelivery(channel: Channel, subscription: Subscription, message: ConsumeMessage): void {
    const delivery: Delivery = {
      channel,
      subscription,
      message,
      retryCount: retryCountOf(message.properties.headers),
    };
    if (this.stopping) {
      // Sent before the cancel reached the broker: not started, handed straight back.
      this.settle(delivery, 'requeue');
      return;
    }
    const task = this.route(delivery);
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async route(delivery: Delivery): Promise<void> {
    const { message } = delivery;
    if (!message.fields.redelivered) {
      return this.lock.shared(() => this.process(delivery));
    }
    const deliveries = Number(message.properties.headers?.[Headers.deliveryCount] ?? 0);
    if (deliveries >= this.options.deliveryLimit - 1) {
      const error = new CrashSuspectError(
        `Delivered ${deliveries + 1} times without an outcome; the queue's delivery limit is ${this.options.deliveryLimit}`,
      );
      return this.fail(delivery, error, 'delivery-limit');
    }
    return this.lock.exclusive(() => this.runAlone(delivery));
  }

  /** A redelivered message runs alone under a committed marker; a surviving marker convicts it. */
  private async runAlone(delivery: Delivery): Promise<void> {
    const queue = delivery.subscription.queue;
    const id = messageKey(delivery.message);
    try {
      if (await this.suspects.crashedWhileRunning(queue, id)) {
        await this.suspects.clear(queue, id);
        const error = new CrashSuspectError(
          'The consumer died while running this message alone (crash suspect); moved to the next retry level before running again',
        );
        return this.fail(delivery, error);
      }
      await this.suspects.markRunning(queue, id);
    } catch (error) {
      return this.fail(delivery, error);
    }
    await this.process(delivery);
    await this.suspects.clear(queue, id).catch((error: unknown) => {
      this.logger.warn(`Cannot clear the crash marker of ${id}: ${asError(error).message}`);
    });
  }

  private async process(delivery: Delivery): Promise<void> {
    const { subscription } = delivery;
    let event: DecodedEvent;
    try {
      event = this.registry.decode(delivery.message.content);
      if (event.type !== subscription.type) {
        throw new UnknownEventTypeError(
          `Queue ${subscription.queue} has no handler for ${event.type}; it only handles ${subscription.type}.`,
        );
      }
    } catch (error) {
      return this.fail(delivery, error);
    }
    const key = event.envelope.subject ?? event.envelope.id;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.handle(delivery, event));
    this.chains.set(key, next);
    try {
      await next;
    } finally {
      if (this.chains.get(key) === next) this.chains.delete(key);
    }
  }

  private async handle(delivery: Delivery, event: DecodedEvent): Promise<void> {
    const { subscription, message } = delivery;
    const info: DeliveryInfo = {
      queue: subscription.queue,
      messageId: event.envelope.id,
      retryCount: delivery.retryCount,
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
                  this.runner.run(handler.name, event, info, (context) =>
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
      return this.fail(delivery, error);
    }
    const ms = performance.now() - started;
    this.events.onHandled?.(subscription.queue, event.type, ms);
    this.settle(delivery, 'ack');
    withLogContext(logContext, () =>
      this.logger.log(`Handled ${event.type} from ${subscription.queue} in ${ms.toFixed(1)} ms`),
    );
  }

  private async fail(delivery: Delivery, thrown: unknown, forced?: ExceptionType): Promise<void> {
    // Whatever was thrown (`throw undefined` included) becomes an Error once, here: the code
    // below reads its message after the retry or dead-letter copy is confirmed, and a second
    // failure there would requeue the original and publish another copy on every redelivery.
    const error = asError(thrown);
    const { subscription, message, retryCount } = delivery;
    const outcome = forced
      ? ({ kind: 'dead-letter', exceptionType: forced } as const)
      : classifyFailure(error, retryCount, subscription);
    const origin = originOf(message.properties.headers, message.fields);
    const { headers, ...properties } = message.properties;
    const type = String(message.properties.type ?? '?');
    const context = `${subscription.queue} ${type} ${String(message.properties.messageId ?? '?')} correlationId=${String(message.properties.correlationId ?? '-')}`;
    const copy = (exchange: string, routingKey: string, copyHeaders: MessagePropertyHeaders) =>
      this.publisher.publish(
        {
          exchange,
          routingKey,
          body: message.content,
          properties: {
            ...properties,
            messageId: String(properties.messageId ?? ''),
            persistent: true,
            headers: copyHeaders,
          },
        },
        { mandatory: true },
      );
    try {
      if (outcome.kind === 'retry') {
        await copy(
          this.topology.waitExchange,
          outcome.waitQueue,
          retryHeaders(headers, origin, outcome.level, error, subscription.queue),
        );
        this.events.onRetried?.(subscription.queue, type, outcome.level);
        this.logger.warn(
          `Retry ${outcome.level}/${subscription.waitQueues.length} in ${outcome.delayMs} ms: ${context}: ${error.message}`,
        );
      } else {
        await copy(
          this.topology.deadLetterExchange,
          subscription.queue,
          deadLetterHeaders(
            headers,
            origin,
            subscription.queue,
            outcome.exceptionType,
            error,
            retryCount,
          ),
        );
        this.events.onDeadLettered?.(subscription.queue, type, outcome.exceptionType);
        this.logger.error(
          `Dead-lettered (${outcome.exceptionType}) to ${subscription.deadLetterQueue}: ${context}: ${error.message}`,
        );
      }
    } catch (publishError) {
      // The failure could not be recorded; hand the message back. Its redelivery is a crash
      // suspect and the broker's delivery limit bounds the loop.
      this.logger.error(`Cannot move ${context} after a failure: ${asError(publishError).message}`);
      return this.settle(delivery, 'requeue');
    }
    this.settle(delivery, 'ack');
  }

  private settle({ channel, message }: Delivery, how: 'ack' | 'requeue'): void {
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
