// The machine's own speed, measured in the same run as the end-to-end benchmark and with the
// settings the services use, so that the end-to-end figures can be judged as ratios to it
// (issue 17): what an order would reach if it cost nothing but its unavoidable operations.
import { createTestDatabase, createTestVhost } from '@app/testing';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import amqplib from 'amqplib';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { cpuSeconds, pidsNamed } from './process-stats.js';

/** One calibrated operation: how many per second the machine does, and the CPU each costs. */
export interface Operation {
  perSecond: number;
  /** CPU of every process involved (this one, RabbitMQ, PostgreSQL), in ms per operation. */
  cpuMs: number;
}

export interface Calibration {
  /** A 1 KiB persistent message published on a quorum queue, confirmed, many in flight. */
  publishConfirmed: Operation;
  /** The same messages consumed with manual acks, prefetch 50. */
  consumeAcked: Operation;
  /** A single-row INSERT committed on its own, from a pool of 10 with 20 callers. */
  commit: Operation;
  /** An empty Nest GET, keep-alive, 50 concurrent clients. */
  httpRequest: Operation;
}

/**
 * What one order needs at the least, by design, and why:
 * - 3 confirmed publishes and 3 consumed messages: `order.placed` (to inventory),
 *   `inventory.reserved` (to orders) and `order.confirmed` (to email), each published once
 *   and delivered once;
 * - 4 commits: placing the order (event, read model and outbox together), inventory's
 *   reservation, the saga's confirmation and email's record of the send, each one transaction
 *   holding its inbox row, effects and outbox row; the relay's `sent_at` updates are batched
 *   and not counted;
 * - 1 HTTP request: `POST /orders`.
 */
export const ORDER_OPERATIONS = {
  publishConfirmed: 3,
  consumeAcked: 3,
  commit: 4,
  httpRequest: 1,
} as const satisfies Record<keyof Calibration, number>;

/** CPU seconds of this process, RabbitMQ and PostgreSQL so far. */
function machineCpuSeconds(): number {
  const own = process.cpuUsage();
  const others = [...pidsNamed('beam.smp'), ...pidsNamed('postgres')].reduce(
    (sum, pid) => sum + cpuSeconds(pid),
    0,
  );
  return (own.user + own.system) / 1e6 + others;
}

/** Times `run` (which performs `count` operations) and the CPU the machine spent on it. */
async function measure(count: number, run: () => Promise<void>): Promise<Operation> {
  const cpuBefore = machineCpuSeconds();
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  const cpu = machineCpuSeconds() - cpuBefore;
  return {
    perSecond: Math.round(count / seconds),
    cpuMs: Math.round(((cpu * 1000) / count) * 1000) / 1000,
  };
}

/** Runs `count` tasks, `concurrency` at a time. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function calibrateBroker(
  messages: number,
): Promise<Pick<Calibration, 'publishConfirmed' | 'consumeAcked'>> {
  const vhost = await createTestVhost('calibrate');
  const connection = await amqplib.connect(vhost.firstUrl);
  try {
    const queue = 'calibrate.quorum';
    const setup = await connection.createChannel();
    await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await setup.close();
    const body = Buffer.alloc(1024, 'x');
    const publisher = await connection.createConfirmChannel();
    // As the services' publisher: persistent, mandatory, confirms awaited per message, at most
    // 1,000 in flight.
    const publishConfirmed = await measure(messages, () =>
      pool(
        messages,
        1_000,
        (i) =>
          new Promise<void>((resolve, reject) => {
            publisher.publish(
              '',
              queue,
              body,
              { persistent: true, mandatory: true, messageId: String(i) },
              (error) =>
                error
                  ? reject(error instanceof Error ? error : new Error(String(error)))
                  : resolve(),
            );
          }),
      ),
    );
    await publisher.close();
    const consumer = await connection.createChannel();
    await consumer.prefetch(50, false);
    let received = 0;
    const consumeAcked = await measure(
      messages,
      () =>
        new Promise<void>((resolve) => {
          void consumer.consume(queue, (message) => {
            if (!message) return;
            consumer.ack(message);
            if (++received === messages) resolve();
          });
        }),
    );
    await consumer.close();
    return { publishConfirmed, consumeAcked };
  } finally {
    await connection.close().catch(() => undefined);
    await vhost.dispose();
  }
}

async function calibrateCommits(commits: number): Promise<Operation> {
  const database = await createTestDatabase('calibrate');
  const clients = new pg.Pool({ connectionString: database.url, max: 10 });
  // Dropping the database (WITH FORCE) may end a connection the pool is still closing: its
  // 'error' would crash the benchmark (seen once in an A/B run); a failed statement still
  // rejects its query.
  clients.on('error', () => undefined);
  try {
    await clients.query(`CREATE TABLE calibrate (id uuid PRIMARY KEY, payload text NOT NULL)`);
    const payload = 'x'.repeat(512);
    return await measure(commits, () =>
      pool(commits, 20, () =>
        clients.query(`INSERT INTO calibrate (id, payload) VALUES ($1, $2)`, [
          randomUUID(),
          payload,
        ]),
      ),
    );
  } finally {
    await clients.end();
    await database.dispose();
  }
}

@Controller()
class EmptyController {
  @Get('empty')
  empty(): Record<string, never> {
    return {};
  }
}

@Module({ controllers: [EmptyController] })
class EmptyModule {}

async function calibrateHttp(requests: number): Promise<Operation> {
  const app = await NestFactory.create<NestExpressApplication>(EmptyModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/empty', agent }, (response) => {
          response.resume();
          response.on('end', resolve);
        })
        .on('error', reject);
    });
  try {
    await pool(200, 50, get); // warm-up
    return await measure(requests, () => pool(requests, 50, get));
  } finally {
    agent.destroy();
    await app.close();
  }
}

/** Calibrates the machine; takes some seconds. */
export async function calibrate(
  sizes = { messages: 5_000, commits: 5_000, requests: 10_000 },
): Promise<Calibration> {
  const broker = await calibrateBroker(sizes.messages);
  const commit = await calibrateCommits(sizes.commits);
  const httpRequest = await calibrateHttp(sizes.requests);
  return { ...broker, commit, httpRequest };
}

/**
 * The ideal ceiling: orders per second if an order cost nothing but `ORDER_OPERATIONS`, each
 * at its calibrated rate, one after the other on the whole machine; and the CPU those
 * operations cost per order.
 */
export function idealOrder(calibration: Calibration): { ceiling: number; cpuMs: number } {
  let seconds = 0;
  let cpuMs = 0;
  for (const [operation, count] of Object.entries(ORDER_OPERATIONS) as [
    keyof Calibration,
    number,
  ][]) {
    seconds += count / calibration[operation].perSecond;
    cpuMs += count * calibration[operation].cpuMs;
  }
  return { ceiling: Math.round(1 / seconds), cpuMs: Math.round(cpuMs * 100) / 100 };
}
