// npm run bench (part 1): libs/messaging against raw amqplib, Nest's built-in RMQ transport
// and @golevelup/nestjs-rabbitmq (a child process with bench/peers' NestJS 11), on a quorum and
// on a classic queue: publish msg/s, consume msg/s and end-to-end latency at a fixed rate.
// Same broker, 1 KiB persistent messages, same prefetch and publish window; rounds alternate
// the contenders (A B C D A B C D ...) and the tables quote medians.
import 'reflect-metadata';
import {
  BrokerConnection,
  buildTopology,
  ConfirmedPublisher,
  CrashSuspects,
  type QueueType,
  resolveMessagingOptions,
  type Topology,
  toAmqpMessage,
} from '@app/messaging';
import { createTestVhost, waitFor } from '@app/testing';
import { Logger } from '@nestjs/common';
import { ClientRMQ, ServerRMQ } from '@nestjs/microservices';
import amqplib, { type ChannelModel } from 'amqplib';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import {
  countTo,
  kibOrderPlaced,
  noDatabase,
  PREFETCH,
  startPipeline,
  WINDOW,
  windowed,
} from './lib/messages.js';
import { ensurePeersInstalled, PEERS } from './lib/peer-shop.js';
import { median, percentile } from './lib/process-stats.js';
import { machine, markdownTable, updateDocSection, versionOf, writeResults } from './lib/report.js';

Logger.overrideLogger(['error']);
const N = Number(process.env.BENCH_TRANSPORT_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATES = (process.env.BENCH_LATENCY_RATES ?? '500,1000,2000').split(',').map(Number);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 3);
const EXCHANGE = 'orders.events';
const ROUTING_KEY = 'order.placed';
const QUEUE = 'inventory.order.placed';
const now = () => performance.timeOrigin + performance.now();

const template = kibOrderPlaced();

interface Contender {
  name: string;
  confirms: string;
  publish(n: number): Promise<number>;
  /** The body its consumer expects, for the prefill. */
  wire(event: ReturnType<typeof kibOrderPlaced>): Buffer;
  consume(n: number): Promise<number>;
  latency(rate: number, seconds: number): Promise<number[]>;
}

/** Sends at a fixed rate for `seconds`; resolves when `received` reaches the total. */
async function paced(
  rate: number,
  seconds: number,
  send: () => void,
  received: () => number,
): Promise<void> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    send();
  }
  await waitFor('every paced message to arrive', () => received() >= total, {
    timeoutMs: 60_000,
    intervalMs: 5,
  });
}

const stamped = () => ({
  ...template,
  id: randomUUID(),
  data: { ...template.data, sentAt: now() },
});

function rawContender(url: string, connection: ChannelModel): Contender {
  return {
    name: 'raw amqplib',
    confirms: 'yes',
    async publish(n) {
      const channel = await connection.createConfirmChannel();
      const rate = await windowed(
        n,
        (i) =>
          new Promise<void>((resolve, reject) => {
            const message = toAmqpMessage({ ...template, id: `${i}` }, EXCHANGE);
            channel.publish(
              EXCHANGE,
              ROUTING_KEY,
              message.body,
              { ...message.properties, mandatory: true },
              (error) => (error ? reject(error as Error) : resolve()),
            );
          }),
      );
      await channel.close();
      return rate;
    },
    wire: (event) => Buffer.from(JSON.stringify(event)),
    async consume(n) {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH, false);
      const counter = countTo(n);
      await channel.consume(QUEUE, (message) => {
        if (!message) return;
        JSON.parse(message.content.toString());
        channel.ack(message);
        counter.tick();
      });
      const rate = await counter.rate();
      await channel.close();
      return rate;
    },
    async latency(rate, seconds) {
      const channel = await connection.createConfirmChannel();
      await channel.prefetch(PREFETCH, false);
      const latencies: number[] = [];
      await channel.consume(QUEUE, (message) => {
        if (!message) return;
        const event = JSON.parse(message.content.toString()) as { data: { sentAt: number } };
        latencies.push(now() - event.data.sentAt);
        channel.ack(message);
      });
      await paced(
        rate,
        seconds,
        () => {
          const message = toAmqpMessage(stamped(), EXCHANGE);
          channel.publish(EXCHANGE, ROUTING_KEY, message.body, {
            ...message.properties,
            mandatory: true,
          });
        },
        () => latencies.length,
      );
      await channel.close();
      return latencies;
    },
  };
  void url;
}

function messagingContender(url: string, topology: Topology, queueType: QueueType): Contender {
  const options = resolveMessagingOptions({
    service: 'inventory',
    url,
    prefetch: PREFETCH,
    queueType,
  });
  const pipeline = (onEvent: (data: { sentAt?: number }) => void) =>
    startPipeline({
      options,
      topology,
      runner: noDatabase,
      // No database here: a redelivery (only after an interrupted run) would fail loudly.
      suspects: new CrashSuspects(undefined as never),
      onEvent,
    });
  return {
    name: 'libs/messaging',
    confirms: 'yes',
    async publish(n) {
      const connection = new BrokerConnection(url, 'bench-publisher');
      connection.start();
      const publisher = new ConfirmedPublisher(connection, topology, 30_000);
      await publisher.start().whenOpen();
      const rate = await windowed(n, (i) =>
        publisher.publish(toAmqpMessage({ ...template, id: `${i}` }, EXCHANGE), {
          mandatory: true,
        }),
      );
      await publisher.close();
      await connection.close();
      return rate;
    },
    wire: (event) => Buffer.from(JSON.stringify(event)),
    async consume(n) {
      const counter = countTo(n);
      const consumer = await pipeline(counter.tick);
      counter.begin();
      consumer.start();
      const rate = await counter.rate();
      await consumer.stop();
      return rate;
    },
    async latency(rate, seconds) {
      const latencies: number[] = [];
      const consumer = await pipeline((data) => latencies.push(now() - (data.sentAt ?? NaN)));
      consumer.start();
      await paced(
        rate,
        seconds,
        () =>
          void consumer.publisher.publish(toAmqpMessage(stamped(), EXCHANGE), {
            mandatory: true,
          }),
        () => latencies.length,
      );
      await consumer.stop();
      return latencies;
    },
  };
}

function nestContender(url: string, queueType: QueueType): Contender {
  const rmqOptions = {
    urls: [url],
    queue: QUEUE,
    noAck: false,
    persistent: true,
    prefetchCount: PREFETCH,
    noAssert: true,
    queueOptions: { durable: true, arguments: { 'x-queue-type': queueType } },
  };
  // The client's noAck is about its reply-to consumer (direct reply-to cannot ack).
  const clientOptions = { ...rmqOptions, noAck: true };
  async function withServer<T>(
    onEvent: (data: { sentAt?: number }) => void,
    work: () => Promise<T>,
  ): Promise<T> {
    const server = new ServerRMQ(rmqOptions);
    server.addHandler(
      ROUTING_KEY,
      (
        data: { data: { sentAt?: number } },
        context: { getChannelRef(): amqplib.Channel; getMessage(): amqplib.Message },
      ) => {
        onEvent(data.data);
        context.getChannelRef().ack(context.getMessage());
        return Promise.resolve();
      },
      true,
    );
    await new Promise<void>(
      (resolve, reject) =>
        void server.listen((error?: unknown) =>
          error
            ? reject(new Error(`ServerRMQ did not start: ${JSON.stringify(error)}`))
            : resolve(),
        ),
    );
    try {
      return await work();
    } finally {
      await server.close();
    }
  }
  return {
    name: 'Nest RMQ transport',
    confirms: 'no (ClientRMQ has no confirm channel)',
    async publish(n) {
      const client = new ClientRMQ(clientOptions);
      await client.connect();
      const rate = await windowed(n, (i) =>
        lastValueFrom(client.emit(ROUTING_KEY, { ...template, id: `${i}` }), {
          defaultValue: undefined,
        }),
      );
      await client.close();
      return rate;
    },
    wire: (event) => Buffer.from(JSON.stringify({ pattern: ROUTING_KEY, data: event })),
    async consume(n) {
      const counter = countTo(n);
      // The clock starts once the server listens, as for the other contenders.
      return withServer(counter.tick, () => {
        counter.begin();
        return counter.rate();
      });
    },
    async latency(rate, seconds) {
      const latencies: number[] = [];
      const client = new ClientRMQ(clientOptions);
      await client.connect();
      try {
        return await withServer(
          (data) => latencies.push(now() - (data.sentAt ?? NaN)),
          async () => {
            await paced(
              rate,
              seconds,
              () =>
                void lastValueFrom(client.emit(ROUTING_KEY, stamped()), {
                  defaultValue: undefined,
                }),
              () => latencies.length,
            );
            return latencies;
          },
        );
      } finally {
        await client.close();
      }
    },
  };
}

function golevelupContender(url: string): Contender {
  const run = (args: Record<string, unknown>) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          join(PEERS, 'golevelup.mjs'),
          JSON.stringify({
            url,
            queue: QUEUE,
            exchange: EXCHANGE,
            routingKey: ROUTING_KEY,
            prefetch: PREFETCH,
            window: WINDOW,
            body: template,
            ...args,
          }),
        ],
        { cwd: PEERS, maxBuffer: 256 * 1024 * 1024 },
      ).toString(),
    ) as { perSecond?: number; latencies?: number[] };
  return {
    name: '@golevelup/nestjs-rabbitmq',
    confirms: 'no (its channel has no confirm mode)',
    publish: (n) => Promise.resolve(run({ op: 'publish', n }).perSecond!),
    wire: (event) => Buffer.from(JSON.stringify(event)),
    consume: (n) => Promise.resolve(run({ op: 'consume', n }).perSecond!),
    latency: (rate, seconds) => Promise.resolve(run({ op: 'latency', rate, seconds }).latencies!),
  };
}

export interface TransportFigures {
  queueType: QueueType;
  contender: string;
  confirms: string;
  publish: number[];
  consume: number[];
  /** Per offered rate: p50 and p99 of each round. */
  latency: Record<number, { p50: number[]; p99: number[] }>;
}

async function benchQueueType(queueType: QueueType): Promise<TransportFigures[]> {
  const vhost = await createTestVhost(`bench-${queueType}`);
  try {
    const options = resolveMessagingOptions({
      service: 'inventory',
      url: vhost.url,
      prefetch: PREFETCH,
      queueType,
    });
    const topology = buildTopology(options, ['order.placed']);
    const connection = await amqplib.connect(vhost.url, { noDelay: true });
    const setup = await connection.createChannel();
    for (const e of [...topology.exchanges, ...topology.sourceExchanges])
      await setup.assertExchange(e.name, e.type, { durable: true });
    for (const q of topology.queues)
      await setup.assertQueue(q.name, { durable: true, arguments: q.arguments });
    for (const b of topology.bindings) await setup.bindQueue(b.queue, b.exchange, b.routingKey);
    const contenders = [
      rawContender(vhost.url, connection),
      messagingContender(vhost.url, topology, queueType),
      nestContender(vhost.url, queueType),
      golevelupContender(vhost.url),
    ];
    const figures = contenders.map((c) => ({
      queueType,
      contender: c.name,
      confirms: c.confirms,
      publish: [] as number[],
      consume: [] as number[],
      latency: Object.fromEntries(
        RATES.map((rate) => [rate, { p50: [] as number[], p99: [] as number[] }]),
      ),
    }));
    const prefill = async (contender: Contender) => {
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < N; i++) {
        const event = { ...template, id: randomUUID() };
        const message = toAmqpMessage(event, EXCHANGE);
        channel.publish(EXCHANGE, ROUTING_KEY, contender.wire(event), message.properties);
        if (i % WINDOW === 0) await channel.waitForConfirms();
      }
      await channel.waitForConfirms();
      await channel.close();
    };
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, contender] of contenders.entries()) {
        const figure = figures[index]!;
        await setup.purgeQueue(QUEUE);
        figure.publish.push(await contender.publish(N));
        await setup.purgeQueue(QUEUE);
        await prefill(contender);
        figure.consume.push(await contender.consume(N));
        for (const rate of RATES) {
          await setup.purgeQueue(QUEUE);
          const latencies = await contender.latency(rate, LATENCY_SECONDS);
          figure.latency[rate]!.p50.push(median(latencies));
          figure.latency[rate]!.p99.push(percentile(latencies, 99));
        }
        console.log(
          `[transport] ${queueType} round ${round + 1} ${contender.name}: publish ${Math.round(figure.publish.at(-1)!)}/s, consume ${Math.round(figure.consume.at(-1)!)}/s, latency p50/p99 ${RATES.map((rate) => `${figure.latency[rate]!.p50.at(-1)!.toFixed(2)}/${figure.latency[rate]!.p99.at(-1)!.toFixed(2)} ms at ${rate}/s`).join(', ')}`,
        );
      }
    }
    await connection.close();
    return figures;
  } finally {
    await vhost.dispose();
  }
}

ensurePeersInstalled();
const results: TransportFigures[] = [];
for (const queueType of ['quorum', 'classic'] as const)
  results.push(...(await benchQueueType(queueType)));
const host = await machine();
const settings = {
  messages: N,
  rounds: ROUNDS,
  bodyBytes: 1024,
  publishWindow: WINDOW,
  prefetch: PREFETCH,
  latencyRates: RATES,
  latencySeconds: LATENCY_SECONDS,
  persistent: true,
};
const versions = {
  amqplib: versionOf('amqplib'),
  '@nestjs/microservices': versionOf('@nestjs/microservices'),
  '@golevelup/nestjs-rabbitmq': versionOf('@golevelup/nestjs-rabbitmq', true),
  'golevelup amqplib': versionOf('amqplib', true),
};
writeResults('transport', { ...host, versions, settings, results });

const r = (n: number) => Math.round(n);
const f = (n: number) => n.toFixed(2);
const rows: (string | number)[][] = [];
for (const figure of results) {
  const raw = results.find(
    (x) => x.queueType === figure.queueType && x.contender === 'raw amqplib',
  )!;
  rows.push([
    figure.queueType,
    figure.contender,
    figure.confirms,
    r(median(figure.publish)),
    (median(figure.publish) / median(raw.publish)).toFixed(2),
    r(median(figure.consume)),
    (median(figure.consume) / median(raw.consume)).toFixed(2),
    ...RATES.map(
      (rate) => `${f(median(figure.latency[rate]!.p50))} / ${f(median(figure.latency[rate]!.p99))}`,
    ),
  ]);
}
const table = markdownTable(
  [
    'queue',
    'contender',
    'publisher confirms',
    'publish/s',
    'x raw',
    'consume/s',
    'x raw',
    ...RATES.map((rate) => `p50 / p99 ms at ${rate}/s`),
  ],
  rows,
  ['l', 'l', 'l', 'r', 'r', 'r', 'r', ...RATES.map(() => 'r' as const)],
);
console.log(table);
updateDocSection(
  'transport',
  [
    '## 1. Transport against raw amqplib and the Nest peers (`npm run bench`)',
    '',
    `${host.date.slice(0, 10)} on ${host.machine}; Node ${host.node}, RabbitMQ ${host.rabbitmq}; ${Object.entries(
      versions,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `Settings: ${N} persistent 1 KiB messages per publish and consume run, publish window ${WINDOW} (unconfirmed or unwritten publishes in flight), prefetch ${PREFETCH}, manual acks; latency from publish to the consumer's handler at ${RATES.join(', ')} msg/s, ${LATENCY_SECONDS} s each. ${ROUNDS} rounds alternating the contenders; medians.`,
    '',
    table,
    '',
    'What each contender does. *raw amqplib*: a confirm channel, `mandatory`, JSON.parse and ack in the consumer. *libs/messaging*: the ConfirmedPublisher (confirms, `mandatory`), and the whole EventConsumer pipeline without a database (envelope parsing, version check, Ajv validation, per-subject ordering, a no-op handler, ack). *Nest RMQ transport*: @nestjs/microservices ClientRMQ `emit` (persistent; no publisher confirms: it resolves when amqp-connection-manager has written the message) to the queue, and ServerRMQ with `noAck: false`, acking in the handler. *@golevelup/nestjs-rabbitmq*: `AmqpConnection.publish` (persistent; no confirms either) to the exchange and `createSubscriber` (JSON deserialisation, handler, ack), booted by RabbitMQModule in a Nest 11 application context, in a child process from `bench/peers`. The peers publish without confirms, so their publish figures are not at equal guarantees: they measure how fast a message is handed to the socket, not how fast the broker took responsibility for it.',
  ].join('\n'),
);
