import { type DecodedEvent } from '@app/events';
import { connectionsOf, management, SuiteFixture, waitFor, countOutcomes } from '@app/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from './event-context.js';
import { EventHandler } from './event-handler.decorator.js';

const attempts = new Map<string, number>();
let slowMs = 0;
/** When each successful run began and ended, in the order the runs began. */
const runs: { id: string; subject: string; startedAt: number; endedAt: number }[] = [];

@Injectable()
class OrderPlacedHandler {
  @EventHandler('order.placed', { id: 'reserve' })
  async reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    const count = (attempts.get(event.envelope.id) ?? 0) + 1;
    attempts.set(event.envelope.id, count);
    const sku = event.data.items[0]?.sku;
    if (sku === 'FAIL') throw new Error('stock ledger unavailable');
    if (sku === 'FLAKY' && count < 3) throw new Error(`flaky attempt ${count}`);
    const run = { id: event.envelope.id, subject: event.data.orderId, startedAt: 0, endedAt: 0 };
    runs.push(run);
    run.startedAt = performance.now();
    if (slowMs) await new Promise((resolve) => setTimeout(resolve, slowMs));
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('reserve', $1, $2, $3)`,
      [event.envelope.id, event.envelope.subject ?? null, JSON.stringify(event.data)],
    );
    run.endedAt = performance.now();
  }
}

describe('EventConsumer against RabbitMQ and PostgreSQL', () => {
  let fixture: SuiteFixture;
  let service: TestService;
  const queue = 'inventory.order.placed';
  const start = () =>
    startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [OrderPlacedHandler],
    });

  beforeAll(async () => {
    fixture = await SuiteFixture.create('consumer');
    service = await start();
  });

  afterAll(async () => {
    await service?.close();
    await fixture?.dispose();
  });

  beforeEach(async () => {
    slowMs = 0;
    runs.length = 0;
    await fixture.probe.drain(`${queue}.dlq`);
  });

  const handled = async (id: string) =>
    (await effects(service.dataSource)).filter((row) => row.event_id === id);

  it('declares the topology of docs/contract.md section 5 with the documented arguments', async () => {
    const queues = await management<{ name: string; arguments: Record<string, unknown> }[]>(
      'GET',
      `/queues/${encodeURIComponent(fixture.vhost.name)}`,
    );
    const main = queues.find((q) => q.name === queue);
    expect(main?.arguments).toMatchObject({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 10,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-dead-letter-exchange': 'inventory.dlx',
      'x-dead-letter-routing-key': queue,
    });
    // The wait queues are the service's, shared by its queues: an expired retry goes back with
    // the routing keys it was published with (no x-dead-letter-routing-key).
    const wait = queues.find((q) => q.name === 'inventory.retry.1-100ms');
    expect(wait?.arguments).toMatchObject({
      'x-message-ttl': 100,
      'x-dead-letter-exchange': 'inventory.retry',
    });
    expect(wait?.arguments['x-dead-letter-routing-key']).toBeUndefined();
    expect(queues.map((q) => q.name).sort()).toEqual(
      [queue, `${queue}.dlq`, 'inventory.retry.1-100ms', 'inventory.retry.2-200ms'].sort(),
    );
    const bindings = await management<
      { source: string; destination: string; routing_key: string }[]
    >('GET', `/bindings/${encodeURIComponent(fixture.vhost.name)}`);
    const named = bindings
      .filter((b) => b.source !== '')
      .map((b) => `${b.source} -[${b.routing_key}]-> ${b.destination}`);
    expect(named.sort()).toEqual(
      [
        `orders.events -[order.placed]-> ${queue}`,
        `inventory.retry -[${queue}]-> ${queue}`,
        `inventory.wait -[inventory.retry.1-100ms]-> inventory.retry.1-100ms`,
        `inventory.wait -[inventory.retry.2-200ms]-> inventory.retry.2-200ms`,
        `inventory.dlx -[${queue}]-> ${queue}.dlq`,
      ].sort(),
    );
  });

  it('handles an event in a transaction and acks it', async () => {
    const event = orderPlaced();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('the effect', async () => (await handled(event.id)).length === 1);
    await waitFor('an empty queue', async () => (await fixture.probe.depth(queue)) === 0);
  });

  it('runs the events of one aggregate one at a time in arrival order, and different aggregates at once', async () => {
    slowMs = 40;
    const subjects = [randomUUID(), randomUUID(), randomUUID()];
    const published: { id: string; subject: string }[] = [];
    for (let round = 0; round < 4; round++) {
      for (const orderId of subjects) {
        const event = orderPlaced({ orderId });
        published.push({ id: event.id, subject: orderId });
        fixture.probe.publishEvent(event); // one burst: all queued before the first is handled
      }
    }
    await waitFor(
      'every event to be handled',
      () => runs.every((r) => r.endedAt) && runs.length === published.length,
    );
    for (const subject of subjects) {
      const own = runs.filter((run) => run.subject === subject);
      expect(own.map((run) => run.id)).toEqual(
        published.filter((event) => event.subject === subject).map((event) => event.id),
      );
      for (let i = 1; i < own.length; i++) {
        // The next run of the aggregate starts only after the previous one ended.
        expect(own[i]!.startedAt).toBeGreaterThanOrEqual(own[i - 1]!.endedAt);
      }
    }
    const overlapping = runs.some((run) =>
      runs.some(
        (other) =>
          other.subject !== run.subject &&
          other.startedAt < run.endedAt &&
          run.startedAt < other.endedAt,
      ),
    );
    expect(overlapping).toBe(true);
  });

  it('retries a failing handler through every level, then dead-letters it with all headers', async () => {
    const event = orderPlaced({ items: [{ sku: 'FAIL', quantity: 1, unitPriceCents: 100 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    const [dead] = await waitFor('the dead letter', async () => {
      const messages = await fixture.probe.drain(`${queue}.dlq`);
      return messages.length ? messages : undefined;
    });
    expect(attempts.get(event.id)).toBe(3);
    const headers = dead!.properties.headers!;
    expect(headers).toMatchObject({
      'x-exception-type': 'handler-error',
      'x-original-exchange': 'orders.events',
      'x-original-routing-key': 'order.placed',
      'x-failed-queue': queue,
      'x-retry-count': 2,
    });
    expect(String(headers['x-exception-message'])).toContain('stock ledger unavailable');
    expect(String(headers['x-exception-stacktrace'])).toContain('reserve');
    expect(Date.parse(String(headers['x-failed-at']))).not.toBeNaN();
    expect(headers['x-death']).toBeDefined();
    expect(dead!.properties.messageId).toBe(event.id);
    expect(JSON.parse(dead!.content.toString())).toEqual(event);
  });

  it('retries a flaky handler until it succeeds, with one effect and no dead letter', async () => {
    const event = orderPlaced({ items: [{ sku: 'FLAKY', quantity: 1, unitPriceCents: 100 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('the effect', async () => (await handled(event.id)).length === 1);
    expect(attempts.get(event.id)).toBe(3);
    expect(await fixture.probe.depth(`${queue}.dlq`)).toBe(0);
  });

  it.each([
    ['malformed-message', 'not json at all'],
    ['malformed-message', { hello: 'not a cloud event' }],
    ['unknown-event-type', { ...orderPlaced(), type: 'order.teleported' }],
    [
      'unknown-event-type',
      {
        ...orderPlaced(),
        type: 'order.cancelled',
        eventversion: 1,
        data: { orderId: randomUUID(), userId: randomUUID(), reason: 'customer' },
      },
    ],
    ['unsupported-version', { ...orderPlaced(), eventversion: 3 }],
    ['schema-violation', { ...orderPlaced(), data: { orderId: randomUUID() } }],
  ])('dead-letters %s at once and keeps consuming', async (exceptionType, body) => {
    const id = randomUUID();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', body, { messageId: id });
    const [dead] = await waitFor('the dead letter', async () => {
      const messages = await fixture.probe.drain(`${queue}.dlq`);
      return messages.length ? messages : undefined;
    });
    expect(dead!.properties.headers).toMatchObject({
      'x-exception-type': exceptionType,
      'x-retry-count': 0,
    });
    expect(dead!.properties.messageId).toBe(id);
    expect(attempts.get(id)).toBeUndefined();
    const next = orderPlaced();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', next);
    await waitFor('the next event', async () => (await handled(next.id)).length === 1);
  });

  it('applies a duplicate delivery once and acks it', async () => {
    const event = orderPlaced();
    const outcomes = countOutcomes(service.messaging);
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('the duplicate to be skipped', () => outcomes.duplicates === 1);
    expect(await handled(event.id)).toHaveLength(1);
    expect(attempts.get(event.id)).toBe(1);
    outcomes.stop();
  });

  it('upcasts an order.placed v1 message end to end', async () => {
    const orderId = randomUUID();
    const legacy = {
      ...orderPlaced({ orderId }),
      eventversion: 1,
      data: {
        orderId,
        userId: 'u-1',
        items: [{ productId: 'SKU-9', price: 12.34, quantity: 2 }],
        totalAmount: 24.68,
      },
    };
    const userId = randomUUID();
    legacy.data.userId = userId;
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', legacy, {
      headers: { 'x-event-version': 1 },
    });
    const [row] = await waitFor('the effect', async () => {
      const rows = await handled(legacy.id);
      return rows.length ? rows : undefined;
    });
    expect(row!.data).toEqual({
      orderId,
      userId,
      items: [{ sku: 'SKU-9', quantity: 2, unitPriceCents: 1234 }],
      totalCents: 2468,
      currency: 'EUR',
    });
  });

  it('retries a replayed dead letter that fails again instead of dropping it', async () => {
    const event = orderPlaced({ items: [{ sku: 'FAIL', quantity: 1, unitPriceCents: 100 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    const [dead] = await waitFor('the first dead letter', async () => {
      const messages = await fixture.probe.drain(`${queue}.dlq`);
      return messages.length ? messages : undefined;
    });
    expect(attempts.get(event.id)).toBe(3);
    // Replay as the dlq tool does: to the origin queue only, count reset, x-death stripped.
    const { 'x-death': _death, ...headers } = dead!.properties.headers!;
    fixture.probe.channel.publish('inventory.retry', queue, dead!.content, {
      ...dead!.properties,
      headers: { ...headers, 'x-retry-count': 0, 'x-replayed-at': new Date().toISOString() },
    });
    const [again] = await waitFor('the second dead letter', async () => {
      const messages = await fixture.probe.drain(`${queue}.dlq`);
      return messages.length ? messages : undefined;
    });
    expect(attempts.get(event.id)).toBe(6);
    expect(again!.properties.headers).toMatchObject({
      'x-exception-type': 'handler-error',
      'x-retry-count': 2,
    });
    expect(again!.properties.headers!['x-replayed-at']).toBeDefined();
  });

  it('reconnects after the broker closes its connection and keeps consuming', async () => {
    const connections = await waitFor('the service connection', async () => {
      const mine = (await connectionsOf(fixture.vhost.name)).filter((c) =>
        c.client_properties?.connection_name?.startsWith('inventory@'),
      );
      return mine.length >= 1 ? mine : undefined;
    });
    for (const connection of connections) {
      await management('DELETE', `/connections/${encodeURIComponent(connection.name)}`).catch(
        () => undefined,
      );
    }
    await waitFor('the service to notice', () => !service.messaging.isBrokerReady(), {
      intervalMs: 5,
    });
    const event = orderPlaced();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor(
      'the event after reconnecting',
      async () => (await handled(event.id)).length === 1,
      {
        timeoutMs: 30_000,
      },
    );
    // Consuming and publishing reconnect on connections of their own, each with its own
    // back-off: the event can be handled before the publishing side is back.
    await waitFor('the service to be ready again', () => service.messaging.isBrokerReady(), {
      timeoutMs: 30_000,
    });
  });

  it('shuts down under load without losing or repeating anything', async () => {
    const outcomes = countOutcomes(service.messaging);
    // Slow handlers, so that many are mid-transaction when the shutdown starts.
    slowMs = 150;
    const events = Array.from({ length: 200 }, () => orderPlaced());
    for (const event of events)
      await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('some progress', async () => {
      const rows = await service.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM test_effects WHERE event_id = ANY($1)`,
        [events.map((e) => e.id)],
      );
      return Number(rows[0]!.n) >= 60;
    });
    await service.close();
    service = await start();
    const ids = events.map((e) => e.id);
    await waitFor(
      'every event handled',
      async () => {
        const rows = await service.dataSource.query<{ n: string }[]>(
          `SELECT count(DISTINCT event_id) AS n FROM test_effects WHERE event_id = ANY($1)`,
          [ids],
        );
        return Number(rows[0]!.n) === ids.length;
      },
      { timeoutMs: 60_000 },
    );
    const [total] = await service.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM test_effects WHERE event_id = ANY($1)`,
      [ids],
    );
    expect(Number(total!.n)).toBe(ids.length);
    // Every handler that committed before the shutdown was acked before the channel closed:
    // nothing came back to be skipped as a duplicate.
    expect(outcomes.duplicates).toBe(0);
    expect(await fixture.probe.depth(`${queue}.dlq`)).toBe(0);
  });
});
