// npm run bench:messaging: publish-with-confirms and consume-with-ack throughput of
// libs/messaging against raw amqplib, same broker, same settings, alternating A B A B.
import 'reflect-metadata';
import { EventRegistry } from '@app/events';
import {
  BrokerConnection,
  buildTopology,
  ConfirmedPublisher,
  CrashSuspects,
  type HandlerRunner,
  MESSAGING_MIGRATIONS,
  Outbox,
  resolveMessagingOptions,
  toAmqpMessage,
  TransactionalRunner,
} from '@app/messaging';
import { createTestDatabase, createTestVhost } from '@app/testing';
import { Logger } from '@nestjs/common';
import amqplib, { type Channel, type ConfirmChannel } from 'amqplib';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { dataSourceOptions } from '@app/platform';
import { DataSource } from 'typeorm';
import {
  countTo,
  kibOrderPlaced,
  noDatabase,
  PREFETCH,
  startPipeline,
  WINDOW,
  windowed,
} from './lib/messages.js';
import { machine, updateDocSection, versionOf, writeResults } from './lib/report.js';

Logger.overrideLogger(['error']);
const N = Number(process.env.BENCH_MESSAGES ?? 50_000);
const N_PIPELINE = Number(process.env.BENCH_PIPELINE_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const vhost = await createTestVhost('bench');
const database = await createTestDatabase('bench');
const options = resolveMessagingOptions({
  service: 'inventory',
  url: vhost.url,
  prefetch: PREFETCH,
});
const topology = buildTopology(options, ['order.placed']);
const queue = 'inventory.order.placed';

/** 1 KiB CloudEvents bodies. */
const bodies = Array.from({ length: 64 }, kibOrderPlaced);

const raw = await amqplib.connect(vhost.url, { noDelay: true });
const setup = await raw.createChannel();
for (const exchange of [...topology.exchanges, ...topology.sourceExchanges])
  await setup.assertExchange(exchange.name, exchange.type, { durable: true });
for (const q of topology.queues)
  await setup.assertQueue(q.name, { durable: true, arguments: q.arguments });
for (const b of topology.bindings) await setup.bindQueue(b.queue, b.exchange, b.routingKey);

const nextBody = (i: number) =>
  toAmqpMessage({ ...bodies[i % bodies.length]!, id: randomUUID() }, 'orders.events');

async function rawPublish(count: number): Promise<number> {
  const channel: ConfirmChannel = await raw.createConfirmChannel();
  const rate = await windowed(
    count,
    (i) =>
      new Promise<void>((resolve, reject) => {
        const message = nextBody(i);
        channel.publish(
          message.exchange,
          message.routingKey,
          message.body,
          { ...message.properties, mandatory: true },
          (error) => (error ? reject(error as Error) : resolve()),
        );
      }),
  );
  await channel.close();
  return rate;
}

async function messagingPublish(count: number): Promise<number> {
  const connection = new BrokerConnection(vhost.url, 'bench-publisher');
  connection.start();
  const publisher = new ConfirmedPublisher(connection, topology, 30_000);
  await publisher.start().whenOpen();
  const rate = await windowed(count, (i) => publisher.publish(nextBody(i), { mandatory: true }));
  await publisher.close();
  await connection.close();
  return rate;
}

async function rawConsume(count: number): Promise<number> {
  const channel: Channel = await raw.createChannel();
  await channel.prefetch(PREFETCH, false);
  const counter = countTo(count);
  await channel.consume(queue, (message) => {
    if (!message) return;
    channel.ack(message);
    counter.tick();
  });
  const rate = await counter.rate();
  await channel.close();
  return rate;
}

/** The transport alone: libs/messaging's reconnecting channel consuming with manual acks. */
async function transportConsume(count: number): Promise<number> {
  const connection = new BrokerConnection(vhost.url, 'bench-transport');
  connection.start();
  const counter = countTo(count);
  const channel = connection.channel<Channel>({
    name: 'bench consumer',
    confirm: false,
    setup: async (ch: Channel) => {
      await ch.prefetch(PREFETCH, false);
      await ch.consume(queue, (message) => {
        if (!message) return;
        ch.ack(message);
        counter.tick();
      });
    },
  });
  const rate = await counter.rate();
  await channel.close();
  await connection.close();
  return rate;
}

async function messagingConsume(
  count: number,
  runner: HandlerRunner,
  dataSource: DataSource,
): Promise<number> {
  const counter = countTo(count);
  const pipeline = await startPipeline({
    options,
    topology,
    runner,
    suspects: new CrashSuspects(dataSource),
    onEvent: counter.tick,
  });
  counter.begin();
  pipeline.start();
  const rate = await counter.rate();
  await pipeline.stop();
  return rate;
}

// The services' pool settings: pipeline mode and prepared statements.
const dataSource = new DataSource(dataSourceOptions(database.url, MESSAGING_MIGRATIONS));
await dataSource.initialize();
await dataSource.runMigrations();
const registry = new EventRegistry({ defaultCurrency: 'EUR' });
const inbox = new TransactionalRunner(dataSource, new Outbox('inventory', registry), 30_000);

const N_COMMITS = Number(process.env.BENCH_COMMITS ?? 4_000);
const WRITERS = 8;
/** Outbox writes as a service does them, with or without a NOTIFY in each transaction. */
async function outboxCommits(count: number, notify: boolean): Promise<number> {
  const pool = new pg.Pool({ connectionString: database.url, max: WRITERS });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const client = await pool.connect();
      try {
        while (next < count) {
          next += 1;
          const event = { ...bodies[next % bodies.length]!, id: randomUUID() };
          await client.query('BEGIN');
          // The NOTIFY rides in the same statement: no extra round trip, only its commit cost.
          await client.query(
            `INSERT INTO messaging_outbox (event_id, type, exchange, mandatory, payload, sent_at)
             SELECT $1, $2, 'orders.events', true, $3, now()${notify ? " FROM (SELECT pg_notify('messaging_outbox', '')) AS notified" : ''}`,
            [event.id, event.type, JSON.stringify(event)],
          );
          await client.query('COMMIT');
        }
      } finally {
        client.release();
      }
    }),
  );
  const ms = performance.now() - started;
  await pool.end();
  return (count / ms) * 1000;
}

/** Microseconds to decode one 1 KiB message: JSON parse, envelope and payload validation. */
function decodeMicros(iterations = 50_000): number {
  const decoder = new EventRegistry({ defaultCurrency: 'EUR' });
  const buffers = bodies.map((body) => Buffer.from(JSON.stringify(body)));
  for (let i = 0; i < 5_000; i += 1) decoder.decode(buffers[i % buffers.length]!);
  const started = performance.now();
  for (let i = 0; i < iterations; i += 1) decoder.decode(buffers[i % buffers.length]!);
  return ((performance.now() - started) * 1000) / iterations;
}
const decodeUs = decodeMicros();

const results: Record<string, number[]> = {};
const record = (name: string, value: number) => (results[name] ??= []).push(value);
/** Starts a consume phase from exactly `count` ready messages. */
const fill = async (count: number) => {
  await setup.purgeQueue(queue);
  await rawPublish(count);
};

for (let round = 1; round <= ROUNDS; round += 1) {
  // Publish: A then B, each into an empty queue, drained after.
  await setup.purgeQueue(queue);
  record('publish raw amqplib', await rawPublish(N));
  await setup.purgeQueue(queue);
  record('publish libs/messaging', await messagingPublish(N));
  await setup.purgeQueue(queue);
  // Consume: the queue is filled first, then drained by each contender in turn.
  await fill(N);
  record('consume raw amqplib', await rawConsume(N));
  await fill(N);
  record('consume libs/messaging (transport)', await transportConsume(N));
  await fill(N);
  record(
    'consume libs/messaging (pipeline, no database)',
    await messagingConsume(N, noDatabase, dataSource),
  );
  await fill(N_PIPELINE);
  record(
    'consume libs/messaging (full pipeline with inbox)',
    await messagingConsume(N_PIPELINE, inbox, dataSource),
  );
  await setup.purgeQueue(queue);
  record('outbox commits, no NOTIFY', await outboxCommits(N_COMMITS, false));
  record('outbox commits with NOTIFY', await outboxCommits(N_COMMITS, true));
  await dataSource.query('DELETE FROM messaging_outbox');
  console.log(`round ${round}/${ROUNDS} done`);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const ratio = (a: string, b: string) => (m[a]! / m[b]!).toFixed(2);
const rows = [
  ['publish raw amqplib', m['publish raw amqplib']!, '1.00'],
  [
    'publish libs/messaging',
    m['publish libs/messaging']!,
    ratio('publish libs/messaging', 'publish raw amqplib'),
  ],
  ['consume raw amqplib', m['consume raw amqplib']!, '1.00'],
  [
    'consume libs/messaging (transport)',
    m['consume libs/messaging (transport)']!,
    ratio('consume libs/messaging (transport)', 'consume raw amqplib'),
  ],
  [
    'consume libs/messaging (pipeline, no database)',
    m['consume libs/messaging (pipeline, no database)']!,
    ratio('consume libs/messaging (pipeline, no database)', 'consume raw amqplib'),
  ],
  [
    'consume libs/messaging (full pipeline with inbox)',
    m['consume libs/messaging (full pipeline with inbox)']!,
    ratio('consume libs/messaging (full pipeline with inbox)', 'consume raw amqplib'),
  ],
  ['outbox commits, no NOTIFY', m['outbox commits, no NOTIFY']!, '1.00'],
  [
    'outbox commits with NOTIFY',
    m['outbox commits with NOTIFY']!,
    ratio('outbox commits with NOTIFY', 'outbox commits, no NOTIFY'),
  ],
] as const;
const table = [
  '| contender | median per s | ratio to its baseline | rounds |',
  '|---|---:|---:|---|',
  ...rows.map(
    ([name, value, r]) =>
      `| ${name} | ${Math.round(value)} | ${r} | ${results[name]!.map(Math.round).join(', ')} |`,
  ),
].join('\n');
console.log(table);

const host = await machine();
const meta = {
  ...host,
  amqplib: versionOf('amqplib'),
  'amqp-connection-manager': versionOf('amqp-connection-manager'),
  settings: {
    messages: N,
    pipelineMessages: N_PIPELINE,
    rounds: ROUNDS,
    bodyBytes: 1024,
    confirmWindow: WINDOW,
    prefetch: PREFETCH,
    queue: 'quorum',
    persistent: true,
  },
};
writeResults('messaging', { ...meta, results, medians: m });
const section = [
  '## Messaging transport (`npm run bench:messaging`)',
  '',
  `${meta.date.slice(0, 10)} on ${meta.machine}; Node ${meta.node}, RabbitMQ ${meta.rabbitmq}, PostgreSQL ${meta.postgresql}, amqplib ${meta.amqplib}, amqp-connection-manager ${meta['amqp-connection-manager']}.`,
  `Settings: ${N} persistent 1 KiB CloudEvents per publish and transport-consume run (${N_PIPELINE} for the full pipeline), one quorum queue, confirm window ${WINDOW}, prefetch ${PREFETCH}, ${ROUNDS} rounds alternating the contenders; medians.`,
  '',
  table,
  '',
  `Where the pipeline's time goes: decoding one message (JSON parse, envelope and payload validation with Ajv) takes ${decodeUs.toFixed(1)} µs here, ${((decodeUs / (1e6 / m['consume libs/messaging (pipeline, no database)']!)) * 100).toFixed(0)}% of the pipeline's ${(1e6 / m['consume libs/messaging (pipeline, no database)']!).toFixed(0)} µs per message; the rest is the per-message promises of the isolation lock, the per-subject chain, the handler invocation and tracing context, and the ack. With the inbox, the PostgreSQL transaction dominates (${(1e6 / m['consume libs/messaging (full pipeline with inbox)']!).toFixed(0)} µs per message at the prefetch's concurrency).`,
  '',
  'Rows: *publish* is publish-with-confirms (`mandatory`, persistent) until every confirm is in. *consume raw* acks each message as it arrives; *consume libs/messaging (transport)* does the same through the reconnecting channel of libs/messaging (BrokerConnection and SupervisedChannel over amqplib), the transport alone. *pipeline, no database* is the libs/messaging consumer with envelope parsing, version check, Ajv validation, per-subject ordering and ack, and a no-op handler run without a transaction. *full pipeline with inbox* adds, per message, a PostgreSQL transaction with the inbox insert (`ON CONFLICT DO NOTHING`) and `statement_timeout` in one statement: with the pool settings of the services (pipeline mode: BEGIN travels with that statement; prepared statements), that is two round trips (the statement, then COMMIT) and an fsync per message, which is where its time goes. *outbox commits* are transactions of one outbox insert each, from 8 concurrent writers, without and with `pg_notify` (the cost LISTEN/NOTIFY wake-ups would add to every business transaction).',
].join('\n');
updateDocSection('messaging', section);

await dataSource.destroy();
await raw.close();
await vhost.dispose();
await database.dispose();
