import {
  DEFAULT_CURRENCY,
  DEFAULT_DELIVERY_LIMIT,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_PREFETCH,
  DEFAULT_QUEUE_TYPE,
  DEFAULT_RETRY_DELAY_LABELS,
  DEFAULT_RETRY_DELAYS_MS,
  formatDuration,
  MIN_DELIVERY_LIMIT,
  MIN_PREFETCH,
} from '@app/platform';

// The defaults the configuration shares live in @app/platform (config/defaults.ts); these are
// the transport's own.
export const DEFAULT_PUBLISH_TIMEOUT_MS = 10_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECT_WAIT_MS = 5_000;
export const MAX_RECONNECT_DELAY_MS = 5_000;

export type QueueType = 'quorum' | 'classic';

/** Configuration of the RabbitMQ transport for one service. */
export interface MessagingOptions {
  /** The service name: owns `<service>.events`, `<service>.retry`, `<service>.dlx` and its queues. */
  service: string;
  /** `amqp://user:pass@host:port/vhost`. */
  url: string;
  /** `quorum` in production; `classic` only as a labelled development mode. */
  queueType?: QueueType;
  /** Unacknowledged messages per consumer (per-consumer QoS, never global). */
  prefetch?: number;
  /** The quorum queue's `x-delivery-limit`: the broker's last guard against poison messages. */
  deliveryLimit?: number;
  /** Wait before each retry level, in ms; one wait queue per delay. */
  retryDelaysMs?: readonly number[];
  /** How each delay was written (`60s`), naming its wait queue; by default formatted from ms. */
  retryDelayLabels?: readonly string[];
  /** A handler running longer fails with a retryable `handler-error`. */
  handlerTimeoutMs?: number;
  /** A publish not confirmed within this time fails (the outbox retries it). */
  publishTimeoutMs?: number;
  /** Bound on waiting for in-flight handlers and confirms at shutdown. */
  shutdownTimeoutMs?: number;
  /** How long boot waits for a first connection before going on, not ready. */
  connectWaitMs?: number;
  /** ISO 4217 currency for upcasting payloads that predate currencies. */
  defaultCurrency?: string;
}

/** Options with every default filled in. */
export type ResolvedMessagingOptions = Required<MessagingOptions>;

/** Fills defaults and checks ranges; throws a message naming the bad option. */
export function resolveMessagingOptions(options: MessagingOptions): ResolvedMessagingOptions {
  const resolved: ResolvedMessagingOptions = {
    queueType: DEFAULT_QUEUE_TYPE,
    prefetch: DEFAULT_PREFETCH,
    deliveryLimit: DEFAULT_DELIVERY_LIMIT,
    retryDelaysMs: DEFAULT_RETRY_DELAYS_MS,
    handlerTimeoutMs: DEFAULT_HANDLER_TIMEOUT_MS,
    publishTimeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    connectWaitMs: DEFAULT_CONNECT_WAIT_MS,
    defaultCurrency: DEFAULT_CURRENCY,
    ...stripUndefined(options),
    retryDelayLabels:
      options.retryDelayLabels ??
      options.retryDelaysMs?.map((delay) => formatDuration(delay)) ??
      DEFAULT_RETRY_DELAY_LABELS,
    service: options.service,
    url: options.url,
  };
  if (!/^[a-z][a-z0-9-]*$/.test(resolved.service)) {
    throw new Error(
      `Messaging service name "${resolved.service}" must be lower-case letters, digits and dashes.`,
    );
  }
  if (resolved.queueType !== 'quorum' && resolved.queueType !== 'classic') {
    throw new Error(`queueType "${String(resolved.queueType)}" must be quorum or classic.`);
  }
  for (const [name, value, min] of [
    ['prefetch', resolved.prefetch, MIN_PREFETCH],
    ['deliveryLimit', resolved.deliveryLimit, MIN_DELIVERY_LIMIT],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} ${value} must be an integer of at least ${min}.`);
    }
  }
  if (resolved.retryDelaysMs.some((delay) => !Number.isInteger(delay) || delay <= 0)) {
    throw new Error(`retryDelaysMs must be positive, got [${resolved.retryDelaysMs.join(', ')}].`);
  }
  if (new Set(resolved.retryDelaysMs).size !== resolved.retryDelaysMs.length) {
    throw new Error(`retryDelaysMs must not repeat a delay: each names its own wait queue.`);
  }
  if (
    resolved.retryDelayLabels.length !== resolved.retryDelaysMs.length ||
    resolved.retryDelayLabels.some((label) => !/^[0-9a-z.]{1,32}$/.test(label))
  ) {
    throw new Error(
      `retryDelayLabels [${resolved.retryDelayLabels.join(', ')}] must name each of the ${resolved.retryDelaysMs.length} retry delays (digits and unit letters).`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
