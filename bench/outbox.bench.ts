// npm run bench (part 2): the outbox relay. Rows per second from commit to broker confirm
// (a backlog drained by the relay), and commit-to-delivery latency at fixed rates (writers
// committing one event per transaction while the relay runs, woken by the commit hook).
import 'reflect-metadata';
import { EventRegistry } from '@app/events';
import {
  applyTopology,
  BrokerConnection,
  buildTopology,
  ConfirmedPublisher,
  DEFAULT_OUTBOX_RELAY_OPTIONS,
  MESSAGING_MIGRATIONS,
  Outbox,
  OutboxCommitHook,
  OutboxRelay,
  resolveMessagingOptions,
} from '@app/messaging';
import { createTestDatabase, createTestVhost, waitFor } from '@app/testing';
import { Logger } from '@nestjs/common';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { dataSourceOptions } from '@app/platform';
import { DataSource } from 'typeorm';
import { median, percentile } from './lib/process-stats.js';
import { machine, markdownTable, updateDocSection, writeResults } from './lib/report.js';

Logger.overrideLogger(['error']);
const BACKLOG = Number(process.env.BENCH_OUTBOX_ROWS ?? 20_000);
const RATES = (process.env.BENCH_OUTBOX_RATES ?? '200,1000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_OUTBOX_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WRITERS = 8;

const vhost = await createTestVhost('bench-outbox');
const database = await createTestDatabase('bench_outbox');
const options = resolveMessagingOptions({ service: 'orders', url: vhost.url });
const topology = buildTopology(resolveMessagingOptions({ service: 'inventory', url: vhost.url }), [
  'order.placed',
]);
const QUEUE = 'inventory.order.placed';
// The services' pool settings: pipeline mode and prepared statements.
const dataSource = new DataSource(dataSourceOptions(database.url, MESSAGING_MIGRATIONS));
await dataSource.initialize();
await dataSource.runMigrations();
const connection = new BrokerConnection(vhost.url, 'bench-outbox');
connection.start();
const setupChannel = await amqplib.connect(vhost.url, { noDelay: true });
const setup = await setupChannel.createChannel();
// The producers' exchanges, as their services would declare them (consumers only check them).
for (const exchange of topology.sourceExchanges)
  await setup.assertExchange(exchange.name, exchange.type, { durable: true });
await applyTopology(setup, topology);
const publisher = new ConfirmedPublisher(connection, buildTopology(options, []), 30_000);
await publisher.start().whenOpen();
const outbox = new Outbox('orders', new EventRegistry({ defaultCurrency: 'EUR' }));

function placed() {
  const orderId = randomUUID();
  return {
    orderId,
    userId: randomUUID(),
    items: [{ sku: 'KEYBOARD-MX', quantity: 1, unitPriceCents: 8_900 }],
    totalCents: 8_900,
    currency: 'EUR',
  };
}

async function commitOne(): Promise<string> {
  return dataSource.transaction(async (manager) => {
    const data = placed();
    const event = await outbox.enqueue(manager, 'order.placed', data, { subject: data.orderId });
    return event.id;
  });
}

/**
 * Empties the outbox between measurements. VACUUM too: without it the dead tuples of the rows
 * just deleted stay in the table and its partial index, and every round is slower than the
 * last (measured: 2.8, 8.5, 16.5 ms p50 at 200 commits/s; with VACUUM 1.1, 1.0, 1.0 ms).
 */
async function emptyOutbox(): Promise<void> {
  await dataSource.query(`DELETE FROM messaging_outbox`);
  await dataSource.query(`VACUUM messaging_outbox`);
}

function newRelay(): OutboxRelay {
  return new OutboxRelay(dataSource, publisher, () => connection.isConnected(), {
    ...DEFAULT_OUTBOX_RELAY_OPTIONS,
  });
}

/** A backlog of BACKLOG rows, then the relay alone: rows per second until all are confirmed. */
async function drainRate(): Promise<number> {
  await emptyOutbox();
  await setup.purgeQueue(QUEUE);
  const queue: Promise<unknown>[] = [];
  let next = 0;
  const writer = async () => {
    while (next < BACKLOG) {
      next++;
      await commitOne();
    }
  };
  for (let i = 0; i < WRITERS; i++) queue.push(writer());
  await Promise.all(queue);
  const relay = newRelay();
  const started = performance.now();
  relay.start();
  await waitFor(
    'the relay to drain the backlog',
    async () => {
      const [row] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM messaging_outbox WHERE sent_at IS NULL`,
      );
      return row!.n === 0;
    },
    { timeoutMs: 300_000, intervalMs: 20 },
  );
  const rate = (BACKLOG / (performance.now() - started)) * 1000;
  await relay.stop();
  return rate;
}

/** Commits at `rate` per second with the relay running; latency from commit to delivery. */
async function latencyAt(rate: number): Promise<number[]> {
  await emptyOutbox();
  await setup.purgeQueue(QUEUE);
  const relay = newRelay();
  const hook = new OutboxCommitHook(() => relay.poke());
  dataSource.subscribers.push(hook);
  relay.start();
  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = await setupChannel.createChannel();
  await consumer.prefetch(500);
  const arrived = new Map<string, number>();
  const { consumerTag } = await consumer.consume(QUEUE, (message) => {
    if (!message) return;
    arrived.set(String(message.properties.messageId), performance.now());
    consumer.ack(message);
  });
  const total = Math.round(rate * SECONDS);
  const started = performance.now();
  const commits: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    commits.push(commitOne().then((id) => void committedAt.set(id, performance.now())));
  }
  await Promise.all(commits);
  await waitFor('every committed event to arrive', () => arrived.size >= total, {
    timeoutMs: 60_000,
    intervalMs: 10,
  });
  for (const [id, at] of committedAt) latencies.push(arrived.get(id)! - at);
  await consumer.cancel(consumerTag);
  await consumer.close();
  await relay.stop();
  dataSource.subscribers.splice(dataSource.subscribers.indexOf(hook), 1);
  return latencies;
}

const drains: number[] = [];
const latency = new Map<number, { p50: number[]; p99: number[] }>(
  RATES.map((rate) => [rate, { p50: [], p99: [] }]),
);
for (let round = 0; round < ROUNDS; round++) {
  drains.push(await drainRate());
  for (const rate of RATES) {
    const latencies = await latencyAt(rate);
    latency.get(rate)!.p50.push(median(latencies));
    latency.get(rate)!.p99.push(percentile(latencies, 99));
  }
  console.log(
    `[outbox] round ${round + 1}: drain ${Math.round(drains.at(-1)!)} rows/s; ${RATES.map((rate) => `${rate}/s p50 ${latency.get(rate)!.p50.at(-1)!.toFixed(1)} p99 ${latency.get(rate)!.p99.at(-1)!.toFixed(1)} ms`).join('; ')}`,
  );
}
const host = await machine();
const settings = {
  backlog: BACKLOG,
  rates: RATES,
  seconds: SECONDS,
  rounds: ROUNDS,
  writers: WRITERS,
  batchSize: DEFAULT_OUTBOX_RELAY_OPTIONS.batchSize,
  pollIntervalMs: DEFAULT_OUTBOX_RELAY_OPTIONS.pollIntervalMs,
  queue: 'quorum',
};
writeResults('outbox', {
  ...host,
  settings,
  drains,
  latency: Object.fromEntries(latency),
});
const table = markdownTable(
  ['measure', 'median', 'rounds'],
  [
    [
      'backlog drained, rows/s (commit to confirm)',
      Math.round(median(drains)),
      drains.map(Math.round).join(', '),
    ],
    ...RATES.flatMap((rate) => [
      [
        `commit -> delivered p50 at ${rate} commits/s, ms`,
        median(latency.get(rate)!.p50).toFixed(1),
        latency
          .get(rate)!
          .p50.map((v) => v.toFixed(1))
          .join(', '),
      ],
      [
        `commit -> delivered p99 at ${rate} commits/s, ms`,
        median(latency.get(rate)!.p99).toFixed(1),
        latency
          .get(rate)!
          .p99.map((v) => v.toFixed(1))
          .join(', '),
      ],
    ]),
  ],
  ['l', 'r', 'l'],
);
console.log(table);
updateDocSection(
  'outbox',
  [
    '## 2. Outbox relay (`npm run bench`)',
    '',
    `${host.date.slice(0, 10)} on ${host.machine}; Node ${host.node}, RabbitMQ ${host.rabbitmq}, PostgreSQL ${host.postgresql}.`,
    `Settings: a backlog of ${BACKLOG} \`order.placed\` rows committed by ${WRITERS} writers, then drained by one relay (batches of ${settings.batchSize} rows published concurrently on the confirm channel, one UPDATE per batch); then ${SECONDS} s of single-event transactions at ${RATES.join(' and ')} commits/s with the relay running and woken by the commit hook (poll every ${settings.pollIntervalMs} ms otherwise), latency from the commit's return to the delivery at a consumer of the quorum queue. ${ROUNDS} rounds; medians.`,
    '',
    table,
  ].join('\n'),
);
await publisher.close();
await connection.close();
await setupChannel.close();
await dataSource.destroy();
await vhost.dispose();
await database.dispose();
