import {
  consumersOf,
  createEvent,
  EVENT_FLOWS,
  type EventType,
  exchangeOf,
  hasConsumers,
} from '@app/events';
import { EVENT_VERSION_HEADER, type OutgoingMessage, toAmqpMessage } from '@app/messaging';
import {
  adminQuery,
  type BrokerNode,
  queryOn,
  TEST_HARNESS_APPLICATION,
  waitFor,
} from '@app/testing';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICES } from '../support/build.js';
import { type Cluster, type ServiceProcess } from '../support/cluster.js';
import { type Item, type LoadDriver } from './load.js';
import { type EventTap, publishConfirmed } from './tap.js';

/** A message the suite sends that must end in these dead-letter queues, with this reason. */
export interface Poison {
  id: string;
  exceptionType: string;
  queues: string[];
}

/** An order the suite delivers out of order: `order.cancelled` before its `order.placed`. */
export interface ReorderedOrder {
  orderId: string;
  userId: string;
  items: Item[];
  cancelledEventId: string;
}

/** What the injections put on the wire, for the checks. */
export interface Injected {
  duplicates: string[];
  /** What an injection saw go wrong while it ran (a violation of its phase). */
  problems: { fault: string; what: string }[];
  reordered: ReorderedOrder[];
  poison: Poison[];
}

export interface FaultContext {
  cluster: Cluster;
  /** The suite's own broker node (the first of `brokers`): never the machine's broker. */
  broker: BrokerNode;
  /** Every node of the suite's broker: one, or the three of a cluster. */
  brokers: BrokerNode[];
  load: LoadDriver;
  tap: EventTap;
  injected: Injected;
}

export interface Fault {
  name: string;
  /** Injects the fault and returns a line for the report once the system is back. */
  inject(context: FaultContext): Promise<string>;
}

/**
 * How long an injection waits for what it caused (a copy skipped, a record made): the copies
 * queue behind the load, so a slow machine takes longer; the wait is bounded, never a verdict.
 */
export const FAULT_WAIT_MS = 120_000;

/** Resolves when every process answers `/health/ready` (database and, for consumers, broker). */
export async function allReady(cluster: Cluster, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    'every service to be ready',
    async () => {
      const answers = await Promise.all(
        cluster.processes.map((p) =>
          fetch(p.url('/health/ready'), { signal: AbortSignal.timeout(2_000) })
            .then((r) => r.ok)
            .catch(() => false),
        ),
      );
      return answers.every(Boolean);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * The suite's own broker node stopped (SIGTERM), left down, and started again on its data:
 * every connection drops, queues recover from disk.
 */
export const brokerRestart = (downMs: number): Fault => ({
  name: 'rabbitmq restart',
  async inject({ cluster, broker }) {
    await broker.stop();
    await sleep(downMs); // the outage itself
    await broker.restart();
    await allReady(cluster);
    return `broker node ${broker.name} stopped, down ${downMs} ms, started again`;
  },
});

/** How long a killed replica stays down: the fault's duration, not a wait for anything. */
const KILLED_FOR_MS = 1_000;

async function killAndRestart(target: ServiceProcess, cluster: Cluster): Promise<string> {
  const pid = target.pid;
  await target.kill('SIGKILL');
  await sleep(KILLED_FOR_MS);
  await target.start();
  await allReady(cluster);
  return `kill -9 ${target.name} (pid ${pid}), restarted`;
}

/** `kill -9` of one replica of a service, then a restart of it. */
export const killService = (service: 'inventory' | 'orders' | 'email'): Fault => ({
  name: `kill -9 ${service}`,
  inject: ({ cluster }) => killAndRestart(cluster.of(service)[0]!, cluster),
});

/**
 * `pg_terminate_backend` of every connection of the services' databases (not the tests' own),
 * `rounds` times.
 */
export const terminateDatabaseConnections = (rounds: number): Fault => ({
  name: 'pg_terminate_backend',
  async inject({ cluster }) {
    const names = Object.values(cluster.databases).map((database) => database.name);
    let terminated = 0;
    for (let round = 0; round < rounds; round++) {
      const result = await adminQuery(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
           FROM pg_stat_activity
          WHERE datname = ANY($1) AND pid <> pg_backend_pid() AND application_name <> $2`,
        [names, TEST_HARNESS_APPLICATION],
      );
      terminated += (result.rows[0] as { terminated: number }).terminated;
      // The next round hits the connections the services opened again, not an empty pool.
      await waitFor(
        'the services to reconnect to PostgreSQL',
        async () => {
          const [row] = await queryOn<{ n: number }>(
            cluster.databases.orders.url,
            `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = ANY($1) AND application_name <> $2`,
            [names, TEST_HARNESS_APPLICATION],
          );
          return row!.n >= SERVICES.length;
        },
        { timeoutMs: FAULT_WAIT_MS, intervalMs: 250 },
      );
    }
    await allReady(cluster);
    return `${terminated} connections terminated in ${rounds} rounds`;
  },
});

/** Inbox hits (`messaging_inbox_duplicates_total`) summed over every running process. */
async function inboxDuplicates(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const replica of cluster.processes.filter((p) => p.running)) {
    const text = await (await fetch(replica.metricsUrl())).text();
    for (const match of text.matchAll(/^messaging_inbox_duplicates_total\{[^}]*\} (\d+)/gm)) {
      total += Number(match[1]);
    }
  }
  return total;
}

/**
 * Publishes a sample of the events seen so far again, same id and body. Every consumer must skip
 * each copy in its inbox: the effects are checked at the end, and the inbox hits here, since
 * most handlers would also absorb a duplicate by their own state and hide a missing inbox.
 */
export const duplicateDeliveries = (sample: number): Fault => ({
  name: 'duplicated deliveries',
  async inject({ cluster, tap, injected }) {
    const hitsBefore = await inboxDuplicates(cluster);
    await tap.collect();
    const candidates = [...tap.events.values()].filter(
      (event) => event.envelope && hasConsumers(event.type as EventType),
    );
    const step = Math.max(1, Math.floor(candidates.length / sample));
    const chosen = candidates.filter((_, index) => index % step === 0).slice(0, sample);
    await publishConfirmed(
      cluster.vhost.url,
      chosen.map((event) => ({
        exchange: event.exchange,
        routingKey: event.routingKey,
        body: event.content,
        properties: {
          ...event.properties,
          messageId: event.id,
          headers: event.properties.headers ?? {},
          persistent: true,
        },
      })),
    );
    injected.duplicates.push(...chosen.map((event) => event.id));
    const expected = chosen.reduce(
      (sum, event) => sum + consumersOf(event.type as EventType).length,
      0,
    );
    let hits = 0;
    await waitFor(
      'every copy to be skipped by an inbox',
      async () => {
        hits = (await inboxDuplicates(cluster)) - hitsBefore;
        return hits >= expected;
      },
      { timeoutMs: FAULT_WAIT_MS, intervalMs: 250 },
    ).catch(() =>
      injected.problems.push({
        fault: 'duplicated deliveries',
        what: `${hits} inbox hits for ${expected} duplicate deliveries: a copy was handled again`,
      }),
    );
    const types = new Set(chosen.map((event) => event.type));
    return `${chosen.length} events published again (${[...types].join(', ')}); ${hits} inbox hits`;
  },
});

/**
 * For `count` new orders, `order.cancelled` (stream version 2) is delivered and handled before
 * `order.placed` (version 1) is even published: the later event first, for certain.
 */
export const reorderedDeliveries = (count: number): Fault => ({
  name: 'reordered deliveries',
  async inject({ cluster, load, injected }) {
    const placedLater: OutgoingMessage[] = [];
    const cancelledFirst: OutgoingMessage[] = [];
    for (let i = 0; i < count; i++) {
      const customer = load.customers[i % load.customers.length]!;
      const orderId = randomUUID();
      const items: Item[] = [{ sku: 'CABLE-USBC', quantity: 1 + (i % 3) }];
      const meta = { source: 'orders', subject: orderId, correlationId: `reorder-${i}` };
      const cancelled = createEvent(
        'order.cancelled',
        { orderId, userId: customer.id, reason: 'customer' },
        { ...meta, streamVersion: 2 },
      );
      const placed = createEvent(
        'order.placed',
        {
          orderId,
          userId: customer.id,
          items: items.map((item) => ({ ...item, unitPriceCents: 990 })),
          totalCents: items.reduce((sum, item) => sum + item.quantity * 990, 0),
          currency: 'EUR',
        },
        { ...meta, streamVersion: 1 },
      );
      cancelledFirst.push(toAmqpMessage(cancelled, exchangeOf('order.cancelled')));
      placedLater.push(toAmqpMessage(placed, exchangeOf('order.placed')));
      injected.reordered.push({
        orderId,
        userId: customer.id,
        items,
        cancelledEventId: cancelled.id,
      });
    }
    const orderIds = injected.reordered.slice(-count).map((order) => order.orderId);
    await publishConfirmed(cluster.vhost.url, cancelledFirst);
    await waitFor(
      'inventory to record the early cancellations',
      async () => {
        const [row] = await queryOn<{ n: number }>(
          cluster.databases.inventory.url,
          `SELECT count(*)::int AS n FROM reservations WHERE order_id = ANY($1) AND status = 'CANCELLED'`,
          [orderIds],
        );
        return row!.n === count;
      },
      { timeoutMs: FAULT_WAIT_MS, intervalMs: 250 },
    );
    await publishConfirmed(cluster.vhost.url, placedLater);
    return `${count} orders: order.cancelled handled before order.placed was published`;
  },
});

const queuesOf = (type: EventType, suffix = '.dlq') =>
  EVENT_FLOWS[type].consumers.map((service) => `${service}.${type}${suffix}`);

/** One of each kind of bad message, `rounds` times, mixed into the stream. */
export const poisonMessages = (rounds: number): Fault => ({
  name: 'poison messages',
  async inject({ cluster, injected }) {
    const poison: Poison[] = [];
    const messages: OutgoingMessage[] = [];
    const add = (exceptionType: string, type: EventType, message: OutgoingMessage) => {
      poison.push({ id: message.properties.messageId, exceptionType, queues: queuesOf(type) });
      messages.push(message);
    };
    const raw = (type: EventType, body: string): OutgoingMessage => ({
      exchange: exchangeOf(type),
      routingKey: type,
      body: Buffer.from(body),
      properties: { messageId: randomUUID(), type, persistent: true, headers: {} },
    });
    for (let round = 0; round < rounds; round++) {
      const orderId = randomUUID();
      const userId = randomUUID();
      add('malformed-message', 'order.placed', raw('order.placed', `{"not": json ${round}`));
      add('malformed-message', 'user.registered', raw('user.registered', '\u0000\u0001binary'));
      const unknown = toAmqpMessage(
        createEvent(
          'order.cancelled',
          { orderId, userId, reason: 'customer' },
          { source: 'orders' },
        ),
        exchangeOf('order.cancelled'),
      );
      const unknownEnvelope = JSON.parse(unknown.body.toString()) as Record<string, unknown>;
      unknown.body = Buffer.from(JSON.stringify({ ...unknownEnvelope, type: 'order.exploded' }));
      unknown.properties.type = 'order.exploded';
      add('unknown-event-type', 'order.cancelled', unknown);
      const newer = toAmqpMessage(
        createEvent(
          'order.placed',
          {
            orderId,
            userId,
            items: [{ sku: 'CABLE-USBC', quantity: 1, unitPriceCents: 990 }],
            totalCents: 990,
            currency: 'EUR',
          },
          { source: 'orders', subject: orderId, streamVersion: 1 },
        ),
        exchangeOf('order.placed'),
      );
      const newerEnvelope = JSON.parse(newer.body.toString()) as Record<string, unknown>;
      newer.body = Buffer.from(JSON.stringify({ ...newerEnvelope, eventversion: 99 }));
      (newer.properties.headers as Record<string, unknown>)[EVENT_VERSION_HEADER] = 99;
      add('unsupported-version', 'order.placed', newer);
      const invalid = toAmqpMessage(
        createEvent(
          'payment.processed',
          { paymentId: randomUUID(), orderId, userId, amountCents: 990, currency: 'EUR' },
          { source: 'orders', subject: orderId },
        ),
        exchangeOf('payment.processed'),
      );
      const invalidEnvelope = JSON.parse(invalid.body.toString()) as {
        data: Record<string, unknown>;
      };
      delete invalidEnvelope.data.amountCents;
      invalid.body = Buffer.from(JSON.stringify(invalidEnvelope));
      add('schema-violation', 'payment.processed', invalid);
      // Valid on the wire, but its recipient is unknown: retried through every level, then
      // dead-lettered as a handler error.
      add(
        'handler-error',
        'order.confirmed',
        toAmqpMessage(
          createEvent(
            'order.confirmed',
            { orderId, userId, totalCents: 990, currency: 'EUR' },
            { source: 'orders', subject: orderId },
          ),
          exchangeOf('order.confirmed'),
        ),
      );
    }
    await publishConfirmed(cluster.vhost.url, messages);
    injected.poison.push(...poison);
    const deadLetters = poison.reduce((sum, p) => sum + p.queues.length, 0);
    return `${poison.length} poison messages (${deadLetters} dead letters expected)`;
  },
});
