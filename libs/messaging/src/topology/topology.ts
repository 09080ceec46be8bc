import { type EventType, exchangeOf } from '@app/events';
import { type ResolvedMessagingOptions } from '../messaging.options.js';
import { formatDuration } from '@app/platform';

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct';
}

export interface QueueSpec {
  name: string;
  arguments: Record<string, string | number>;
  /** What the queue is for, shown by the topology tool. */
  role: 'main' | 'wait' | 'dead-letter';
}

export interface BindingSpec {
  queue: string;
  exchange: string;
  routingKey: string;
}

/** One consumed event type: its queue and the wait and dead-letter queues around it. */
export interface Subscription {
  type: EventType;
  queue: string;
  /** The producer's exchange the queue is bound to (checked, never declared, by the consumer). */
  sourceExchange: string;
  /** Wait queues, shortest delay first: retry level n is `waitQueues[n]`. */
  waitQueues: readonly { name: string; delayMs: number }[];
  deadLetterQueue: string;
  /** The queues and bindings of this subscription alone (declared on its own channel). */
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

/** Everything one service declares on the broker, as data. */
export interface Topology {
  service: string;
  eventsExchange: string;
  retryExchange: string;
  deadLetterExchange: string;
  /** The service's own exchanges: the only ones it declares. */
  exchanges: ExchangeSpec[];
  /** The producers' exchanges it consumes from: checked passively, so it cannot change them. */
  sourceExchanges: ExchangeSpec[];
  /** Every queue and binding of every subscription. */
  queues: QueueSpec[];
  bindings: BindingSpec[];
  subscriptions: Subscription[];
}

/**
 * Delivery limit of dead-letter queues: explicit and effectively unlimited. Inspecting a DLQ
 * returns its messages to it; RabbitMQ 4 would otherwise apply its default limit (20) and,
 * with no dead-letter exchange behind a DLQ, drop them.
 */
export const DEAD_LETTER_QUEUE_DELIVERY_LIMIT = 1_000_000;

/** `<service>.<event type>`, e.g. `inventory.order.placed`. */
export const queueName = (service: string, type: string) => `${service}.${type}`;
/** `<queue>.retry.<delay>`, e.g. `inventory.order.placed.retry.10s`. */
export const waitQueueName = (queue: string, delayMs: number) =>
  `${queue}.retry.${formatDuration(delayMs)}`;
/** `<queue>.dlq`. */
export const deadLetterQueueName = (queue: string) => `${queue}.dlq`;

/**
 * Derives a service's topology from the event types its handlers consume (DESIGN section 5):
 * its topic exchange; per type a quorum queue bound to the producer's exchange, wait queues
 * that dead-letter back into `<service>.retry` keyed by the origin queue, and a DLQ on
 * `<service>.dlx`. Nothing uses the default exchange.
 */
export function buildTopology(
  options: ResolvedMessagingOptions,
  consumedTypes: readonly EventType[],
): Topology {
  const { service } = options;
  const eventsExchange = `${service}.events`;
  const retryExchange = `${service}.retry`;
  const deadLetterExchange = `${service}.dlx`;
  const exchanges: ExchangeSpec[] = [
    { name: eventsExchange, type: 'topic' },
    { name: retryExchange, type: 'direct' },
    { name: deadLetterExchange, type: 'direct' },
  ];
  const sources = new Map<string, ExchangeSpec>();
  const subscriptions: Subscription[] = [];

  for (const type of [...new Set(consumedTypes)].sort()) {
    const source = exchangeOf(type);
    if (source !== eventsExchange) sources.set(source, { name: source, type: 'topic' });
    const queue = queueName(service, type);
    const queues: QueueSpec[] = [];
    const bindings: BindingSpec[] = [];
    const mainArguments: Record<string, string | number> =
      options.queueType === 'quorum'
        ? {
            'x-queue-type': 'quorum',
            'x-delivery-limit': options.deliveryLimit,
            'x-dead-letter-strategy': 'at-least-once',
            'x-overflow': 'reject-publish',
          }
        : { 'x-queue-type': 'classic' };
    queues.push({
      name: queue,
      role: 'main',
      arguments: {
        ...mainArguments,
        'x-dead-letter-exchange': deadLetterExchange,
        'x-dead-letter-routing-key': queue,
      },
    });
    bindings.push({ queue, exchange: source, routingKey: type });
    bindings.push({ queue, exchange: retryExchange, routingKey: queue });

    const waitQueues = options.retryDelaysMs.map((delayMs) => ({
      name: waitQueueName(queue, delayMs),
      delayMs,
    }));
    for (const wait of waitQueues) {
      queues.push({
        name: wait.name,
        role: 'wait',
        arguments: {
          'x-queue-type': options.queueType,
          'x-message-ttl': wait.delayMs,
          'x-dead-letter-exchange': retryExchange,
          'x-dead-letter-routing-key': queue,
          ...(options.queueType === 'quorum'
            ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
            : {}),
        },
      });
      bindings.push({ queue: wait.name, exchange: retryExchange, routingKey: wait.name });
    }

    const deadLetterQueue = deadLetterQueueName(queue);
    queues.push({
      name: deadLetterQueue,
      role: 'dead-letter',
      arguments:
        options.queueType === 'quorum'
          ? { 'x-queue-type': 'quorum', 'x-delivery-limit': DEAD_LETTER_QUEUE_DELIVERY_LIMIT }
          : { 'x-queue-type': 'classic' },
    });
    bindings.push({ queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: queue });
    subscriptions.push({
      type,
      queue,
      sourceExchange: source,
      waitQueues,
      deadLetterQueue,
      queues,
      bindings,
    });
  }

  return {
    service,
    eventsExchange,
    retryExchange,
    deadLetterExchange,
    exchanges,
    sourceExchanges: [...sources.values()],
    queues: subscriptions.flatMap((subscription) => subscription.queues),
    bindings: subscriptions.flatMap((subscription) => subscription.bindings),
    subscriptions,
  };
}
