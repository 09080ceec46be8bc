import { type EventType, exchangeOf } from '@app/events';
import { type ResolvedMessagingOptions } from '../messaging.options.js';

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
  /**
   * The service's wait queues, shortest delay first: retry level n is `waitQueues[n]`. They are
   * shared by all its subscriptions; a retry names its origin queue in its `CC` header.
   */
  waitQueues: readonly { name: string; delayMs: number }[];
  deadLetterQueue: string;
  /** The queues and bindings its channel declares: its own, and the shared wait queues. */
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

/** Everything one service declares on the broker, as data. */
export interface Topology {
  service: string;
  eventsExchange: string;
  /** Where expired retries come back: each main queue is bound here by its own name. */
  retryExchange: string;
  /** Where retries are published: each wait queue is bound here by its own name. */
  waitExchange: string;
  deadLetterExchange: string;
  /** The service's own exchanges: the only ones it declares. */
  exchanges: ExchangeSpec[];
  /** The producers' exchanges it consumes from: checked passively, so it cannot change them. */
  sourceExchanges: ExchangeSpec[];
  /** Every queue and binding of the service, each once. */
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
/**
 * `<service>.retry.<level>-<delay>`, e.g. `inventory.retry.2-10s`: one per service and retry
 * level, the delay as configured. The level first, so the management UI lists them in
 * retry order (by name, `10s` would sort before `1s`).
 */
export const waitQueueName = (service: string, level: number, delay: string) =>
  `${service}.retry.${level}-${delay}`;
/** `<queue>.dlq`. */
export const deadLetterQueueName = (queue: string) => `${queue}.dlq`;

/**
 * Derives a service's topology from the event types its handlers consume (docs/contract.md):
 * its topic exchange; per type a quorum queue bound to the producer's exchange and to
 * `<service>.retry` by its own name, and a DLQ on `<service>.dlx`; per delay one wait queue
 * `<service>.retry.<level>-<delay>`, bound to `<service>.wait`, that dead-letters into
 * `<service>.retry` with the routing keys the retry was published with: its own name, which
 * nothing is bound to there, and its origin queue's name, carried in the `CC` header, so the
 * message returns to its origin queue only. Nothing uses the default exchange.
 */
export function buildTopology(
  options: ResolvedMessagingOptions,
  consumedTypes: readonly EventType[],
): Topology {
  const { service } = options;
  const eventsExchange = `${service}.events`;
  const retryExchange = `${service}.retry`;
  const waitExchange = `${service}.wait`;
  const deadLetterExchange = `${service}.dlx`;
  const exchanges: ExchangeSpec[] = [
    { name: eventsExchange, type: 'topic' },
    { name: retryExchange, type: 'direct' },
    { name: waitExchange, type: 'direct' },
    { name: deadLetterExchange, type: 'direct' },
  ];
  const sources = new Map<string, ExchangeSpec>();
  const subscriptions: Subscription[] = [];
  const waitQueues = options.retryDelaysMs.map((delayMs, index) => ({
    name: waitQueueName(service, index + 1, options.retryDelayLabels[index]!),
    delayMs,
  }));
  const waitQueueSpecs: QueueSpec[] = waitQueues.map((wait) => ({
    name: wait.name,
    role: 'wait',
    arguments: {
      'x-queue-type': options.queueType,
      'x-message-ttl': wait.delayMs,
      // No x-dead-letter-routing-key: an expired retry keeps the keys it was published with.
      'x-dead-letter-exchange': retryExchange,
      ...(options.queueType === 'quorum'
        ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
        : {}),
    },
  }));
  const waitBindings: BindingSpec[] = waitQueues.map((wait) => ({
    queue: wait.name,
    exchange: waitExchange,
    routingKey: wait.name,
  }));

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
    queues.push(...waitQueueSpecs);
    bindings.push(...waitBindings);
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

  const unique = <T>(items: T[], key: (item: T) => string) => [
    ...new Map(items.map((item) => [key(item), item])).values(),
  ];
  return {
    service,
    eventsExchange,
    retryExchange,
    waitExchange,
    deadLetterExchange,
    exchanges,
    sourceExchanges: [...sources.values()],
    queues: unique(
      subscriptions.flatMap((subscription) => subscription.queues),
      (queue) => queue.name,
    ),
    bindings: unique(
      subscriptions.flatMap((subscription) => subscription.bindings),
      (b) => `${b.exchange} ${b.routingKey} ${b.queue}`,
    ),
    subscriptions,
  };
}
