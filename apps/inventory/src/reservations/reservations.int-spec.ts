import { createEvent, type EventPayloads } from '@app/events';
import { MessagingService } from '@app/messaging';
import {
  type RunningServiceApp,
  startServiceApp,
  SuiteFixture,
  waitFor,
  countOutcomes,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { InventoryModule } from '../inventory.module.js';

describe('inventory against RabbitMQ and PostgreSQL', () => {
  let fixture: SuiteFixture;
  let inventory: RunningServiceApp;
  let published: { type: string; body: Record<string, unknown> }[];
  let dataSource: DataSource;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('inventory');
    published = await fixture.probe.capture('inventory.events');
    inventory = await startServiceApp('inventory', (config) => InventoryModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      RETRY_DELAYS: '100ms,200ms',
    });
    dataSource = inventory.app.get(DataSource);
  });

  afterAll(async () => {
    await inventory?.close();
    await fixture?.dispose();
  });

  const publish = async <
    K extends 'order.placed' | 'order.cancelled' | 'order.rejected' | 'payment.processed',
  >(
    type: K,
    data: EventPayloads[K],
  ) => {
    const event = createEvent(type, data, {
      source: 'orders',
      subject: (data as { orderId: string }).orderId,
    });
    fixture.probe.publishEvent(event);
    return event;
  };
  const placed = (orderId: string, sku: string, quantity: number) =>
    publish('order.placed', {
      orderId,
      userId: randomUUID(),
      items: [{ sku, quantity, unitPriceCents: 100 }],
      totalCents: 100 * quantity,
      currency: 'EUR',
    });
  const level = async (sku: string) => {
    const [row] = await dataSource.query<{ on_hand: number; reserved: number }[]>(
      `SELECT on_hand, reserved FROM stock WHERE sku = $1`,
      [sku],
    );
    return row!;
  };
  const outcomeOf = (orderId: string) =>
    waitFor(`the outcome of ${orderId}`, () =>
      published.find(
        (p) =>
          (p.body.data as { orderId?: string }).orderId === orderId &&
          p.type.startsWith('inventory.reserv'),
      ),
    );

  it('announces the seed catalog as product.added through the outbox', async () => {
    await waitFor(
      'six product.added events',
      () => published.filter((p) => p.type === 'product.added').length === 6,
    );
  });

  it('reserves exactly the last 10 units for 20 concurrent orders; stock never goes negative', async () => {
    const orders = Array.from({ length: 20 }, () => randomUUID());
    await Promise.all(orders.map((orderId) => placed(orderId, 'LAMP-LTD', 1)));
    const outcomes = await Promise.all(orders.map(outcomeOf));
    expect(outcomes.filter((o) => o.type === 'inventory.reserved')).toHaveLength(10);
    expect(outcomes.filter((o) => o.type === 'inventory.reservation-failed')).toHaveLength(10);
    expect(await level('LAMP-LTD')).toEqual({ on_hand: 10, reserved: 10 });
  });

  it('reserves all items or none', async () => {
    const before = await level('CABLE-USBC');
    const orderId = randomUUID();
    await publish('order.placed', {
      orderId,
      userId: randomUUID(),
      items: [
        { sku: 'CABLE-USBC', quantity: 5, unitPriceCents: 990 },
        { sku: 'MONITOR-27', quantity: 51, unitPriceCents: 24_900 },
      ],
      totalCents: 5 * 990 + 51 * 24_900,
      currency: 'EUR',
    });
    const outcome = await outcomeOf(orderId);
    expect(outcome.type).toBe('inventory.reservation-failed');
    expect((outcome.body.data as { shortSkus: string[] }).shortSkus).toEqual(['MONITOR-27']);
    expect(await level('CABLE-USBC')).toEqual(before);
  });

  it('releases a reservation on order.cancelled and sells it on payment.processed', async () => {
    const before = await level('MOUSE-WL');
    const [kept, dropped] = [randomUUID(), randomUUID()];
    await placed(kept, 'MOUSE-WL', 2);
    await placed(dropped, 'MOUSE-WL', 3);
    await outcomeOf(kept);
    await outcomeOf(dropped);
    expect((await level('MOUSE-WL')).reserved).toBe(before.reserved + 5);
    await publish('order.cancelled', {
      orderId: dropped,
      userId: randomUUID(),
      reason: 'customer',
    });
    await publish('payment.processed', {
      paymentId: randomUUID(),
      orderId: kept,
      userId: randomUUID(),
      amountCents: 200,
      currency: 'EUR',
    });
    await waitFor('the release and the sale', async () => {
      const now = await level('MOUSE-WL');
      return now.reserved === before.reserved && now.on_hand === before.on_hand - 2;
    });
    await waitFor('inventory.released', () =>
      published.find(
        (p) =>
          p.type === 'inventory.released' &&
          (p.body.data as { orderId: string }).orderId === dropped,
      ),
    );
  });

  it('applies a duplicated order.placed once', async () => {
    const outcomes = countOutcomes(inventory.app.get(MessagingService));
    const before = await level('HEADPHONES-NC');
    const orderId = randomUUID();
    const event = await placed(orderId, 'HEADPHONES-NC', 4);
    fixture.probe.publishEvent(event);
    await waitFor('both deliveries', async () => {
      const [row] = await dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM messaging_inbox WHERE event_id = $1`,
        [event.id],
      );
      return (
        Number(row!.n) === 1 &&
        published.some((p) => (p.body.data as { orderId?: string }).orderId === orderId)
      );
    });
    await waitFor('the duplicate to be skipped', () => outcomes.duplicates >= 1);
    expect((await level('HEADPHONES-NC')).reserved).toBe(before.reserved + 4);
    expect(
      published.filter((p) => (p.body.data as { orderId?: string }).orderId === orderId),
    ).toHaveLength(1);
  });

  it('records a cancellation that arrives first; the late order.placed reserves nothing', async () => {
    const before = await level('KEYBOARD-MX');
    const orderId = randomUUID();
    await publish('order.cancelled', { orderId, userId: randomUUID(), reason: 'customer' });
    await waitFor('the cancellation record', async () => {
      const [row] = await dataSource.query<{ status: string }[]>(
        `SELECT status FROM reservations WHERE order_id = $1`,
        [orderId],
      );
      return row?.status === 'CANCELLED';
    });
    const late = await placed(orderId, 'KEYBOARD-MX', 1);
    await waitFor('the late order.placed to be handled', async () => {
      const rows = await dataSource.query<unknown[]>(
        `SELECT 1 FROM messaging_inbox WHERE event_id = $1`,
        [late.id],
      );
      return rows.length === 1;
    });
    expect(await level('KEYBOARD-MX')).toEqual(before);
    expect(published.some((p) => (p.body.data as { orderId?: string }).orderId === orderId)).toBe(
      false,
    );
  });

  it('releases the stock of an order rejected after its reservation (the saga ran out of time)', async () => {
    const before = await level('HEADPHONES-NC');
    const orderId = randomUUID();
    await placed(orderId, 'HEADPHONES-NC', 3);
    await outcomeOf(orderId);
    expect((await level('HEADPHONES-NC')).reserved).toBe(before.reserved + 3);
    await publish('order.rejected', {
      orderId,
      userId: randomUUID(),
      reason: 'No reservation outcome in time',
      shortSkus: [],
    });
    await waitFor(
      'the release',
      async () => (await level('HEADPHONES-NC')).reserved === before.reserved,
    );
    await waitFor('inventory.released', () =>
      published.find(
        (p) =>
          p.type === 'inventory.released' &&
          (p.body.data as { orderId: string }).orderId === orderId,
      ),
    );
    expect(await level('HEADPHONES-NC')).toEqual(before);
  });

  it('records a rejection that arrives before order.placed; the late order.placed reserves nothing', async () => {
    const before = await level('KEYBOARD-MX');
    const orderId = randomUUID();
    await publish('order.rejected', {
      orderId,
      userId: randomUUID(),
      reason: 'No reservation outcome in time',
      shortSkus: [],
    });
    await waitFor('the rejection record', async () => {
      const [row] = await dataSource.query<{ status: string }[]>(
        `SELECT status FROM reservations WHERE order_id = $1`,
        [orderId],
      );
      return row?.status === 'REJECTED';
    });
    const late = await placed(orderId, 'KEYBOARD-MX', 2);
    await waitFor('the late order.placed to be handled', async () => {
      const rows = await dataSource.query<unknown[]>(
        `SELECT 1 FROM messaging_inbox WHERE event_id = $1`,
        [late.id],
      );
      return rows.length === 1;
    });
    expect(await level('KEYBOARD-MX')).toEqual(before);
    expect(published.some((p) => (p.body.data as { orderId?: string }).orderId === orderId)).toBe(
      false,
    );
  });

  it('serves GET /stock', async () => {
    const response = await fetch(inventory.url('/stock'));
    const body = (await response.json()) as {
      sku: string;
      onHand: number;
      reserved: number;
      available: number;
    }[];
    expect(body.find((s) => s.sku === 'LAMP-LTD')).toEqual({
      sku: 'LAMP-LTD',
      onHand: 10,
      reserved: 10,
      available: 0,
    });
  });

  it('serves Prometheus metrics of the pipeline, the outbox and HTTP', async () => {
    const text = await (await fetch(inventory.url('/metrics'))).text();
    expect(text).toMatch(
      /messaging_events_consumed_total\{[^}]*queue="inventory.order.placed"[^}]*type="order.placed"[^}]*\} \d+/,
    );
    expect(text).toMatch(
      /messaging_events_published_total\{[^}]*type="inventory.reserved"[^}]*\} \d+/,
    );
    expect(text).toMatch(
      /messaging_inbox_duplicates_total\{[^}]*queue="inventory.order.placed"[^}]*\} [1-9]/,
    );
    expect(text).toContain('messaging_handler_duration_seconds_bucket');
    expect(text).toMatch(/messaging_outbox_pending(\{[^}]*\})? 0/);
    expect(text).toMatch(/messaging_broker_connected(\{[^}]*\})? 1/);
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/stock"[^}]*\} \d+/);
  });
});
