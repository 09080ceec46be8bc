import { createEvent, EventRegistry } from '@app/events';
import {
  BrokerConnection,
  ConfirmedPublisher,
  type CrashSuspects,
  EventConsumer,
  type HandlerRunner,
  type ResolvedMessagingOptions,
  type Topology,
} from '@app/messaging';
import { randomUUID } from 'node:crypto';

/** Publishes in flight (unconfirmed, or not yet written) and prefetch: the same for every contender. */
export const WINDOW = 256;
export const PREFETCH = 256;

/** A 1 KiB `order.placed` CloudEvents document (a padding field, ignored by consumers, brings it to size). */
export function kibOrderPlaced() {
  const orderId = randomUUID();
  const event = createEvent(
    'order.placed',
    {
      orderId,
      userId: randomUUID(),
      items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 100 }],
      totalCents: 100,
      currency: 'EUR',
    },
    { source: 'orders', subject: orderId },
  );
  const size = Buffer.byteLength(JSON.stringify(event));
  (event.data as Record<string, unknown>).padding = 'x'.repeat(Math.max(0, 1024 - size - 14));
  return event;
}

/**
 * Sends `n` messages keeping at most WINDOW in flight (a counter, no per-message scans) and
 * returns messages per second once the last one settled. Throws if any failed.
 */
export async function windowed(n: number, send: (i: number) => Promise<unknown>): Promise<number> {
  let inFlight = 0;
  let release: (() => void) | undefined;
  let failed = 0;
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    while (inFlight >= WINDOW) await new Promise<void>((r) => (release = r));
    inFlight++;
    send(i)
      .catch(() => (failed += 1))
      .finally(() => {
        inFlight--;
        release?.();
      });
  }
  while (inFlight > 0) await new Promise<void>((r) => (release = r));
  if (failed) throw new Error(`${failed} publishes failed`);
  return (n / (performance.now() - started)) * 1000;
}

/**
 * Counts deliveries up to `n`; `rate()` resolves to messages per second from its creation, or
 * from `begin()` when the clock should start later.
 */
export function countTo(n: number): { tick(): void; begin(): void; rate(): Promise<number> } {
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let started = performance.now();
  return {
    tick: () => {
      if (++seen === n) done();
    },
    begin: () => {
      started = performance.now();
    },
    rate: async () => {
      await finished;
      return (n / (performance.now() - started)) * 1000;
    },
  };
}

/** The consume pipeline without a database: the handler runs with no transaction or inbox. */
export const noDatabase: HandlerRunner = {
  run: async (_consumer, _event, _delivery, invoke) => {
    await invoke({} as never);
    return 'handled';
  },
};

/**
 * libs/messaging's whole consume pipeline on `topology` with one no-op `order.placed` handler
 * that reports each event's data: decode, validate, per-subject ordering, `runner`, ack.
 * Consuming begins with `start()`.
 */
export async function startPipeline(options: {
  options: ResolvedMessagingOptions;
  topology: Topology;
  runner: HandlerRunner;
  /** Only redeliveries use it; the benchmarks have none unless a run is interrupted. */
  suspects: CrashSuspects;
  onEvent: (data: { sentAt?: number }) => void;
}): Promise<{ publisher: ConfirmedPublisher; start(): void; stop(): Promise<void> }> {
  const connection = new BrokerConnection(options.options.url, 'bench-pipeline');
  connection.start();
  const publisher = new ConfirmedPublisher(connection, options.topology, 30_000);
  await publisher.start().whenOpen();
  const handlers = new Map([
    [
      'order.placed',
      [
        {
          type: 'order.placed' as const,
          name: 'bench:noop',
          invoke: (event: { data: { sentAt?: number } }) => {
            options.onEvent(event.data);
            return Promise.resolve(undefined);
          },
        },
      ],
    ],
  ]) as never;
  const consumer = new EventConsumer({
    connection,
    publisher,
    topology: options.topology,
    registry: new EventRegistry({ defaultCurrency: 'EUR' }),
    handlers,
    runner: options.runner,
    suspects: options.suspects,
    options: options.options,
  });
  return {
    publisher,
    start: () => consumer.start(),
    stop: async () => {
      await consumer.stop();
      await publisher.close();
      await connection.close();
    },
  };
}
