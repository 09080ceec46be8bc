import { createEvent } from '@app/events';
import {
  openTransaction,
  type RunningServiceApp,
  startServiceApp,
  SuiteFixture,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { InventoryModule } from '../inventory.module.js';

describe('inventory when its database is slower than HANDLER_TIMEOUT', () => {
  let fixture: SuiteFixture;
  let inventory: RunningServiceApp;
  let dataSource: DataSource;
  let published: { type: string; body: Record<string, unknown> }[];

  beforeAll(async () => {
    fixture = await SuiteFixture.create('inventory_slow');
    published = await fixture.probe.capture('inventory.events');
    inventory = await startServiceApp('inventory', (config) => InventoryModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      RETRY_DELAYS: '100ms,200ms',
      HANDLER_TIMEOUT: '1s',
    });
    dataSource = inventory.app.get(DataSource);
  });

  afterAll(async () => {
    await inventory?.close();
    await fixture?.dispose();
  });

  const level = async (sku: string) =>
    (
      await dataSource.query<{ on_hand: number; reserved: number }[]>(
        `SELECT on_hand, reserved FROM stock WHERE sku = $1`,
        [sku],
      )
    )[0]!;

  it('reserves once and publishes inventory.reserved when lock waits outlast the timeout', async () => {
    const sku = 'MOUSE-WL';
    const before = await level(sku);
    const orderId = randomUUID();
    // Two lock waits, each shorter than the timeout, together longer (0.6 s + 0.7 s > 1 s): the
    // reservation row is held uncommitted by another transaction for 0.6 s, the stock row for 1.3 s.
    const reservation = await openTransaction(fixture.database.url);
    await reservation.query(`INSERT INTO reservations (order_id, status) VALUES ($1, 'NEW')`, [
      orderId,
    ]);
    const stock = await openTransaction(fixture.database.url);
    await stock.query(`SELECT 1 FROM stock WHERE sku = $1 FOR UPDATE`, [sku]);
    const event = createEvent(
      'order.placed',
      {
        orderId,
        userId: randomUUID(),
        items: [{ sku, quantity: 2, unitPriceCents: 2_900 }],
        totalCents: 5_800,
        currency: 'EUR',
      },
      { source: 'orders', subject: orderId, streamVersion: 1 },
    );
    fixture.probe.publishEvent(event);
    await sleep(600);
    await reservation.end('commit');
    await sleep(700);
    await stock.end('rollback');

    const outcomes = () =>
      published.filter((p) => (p.body.data as { orderId?: string }).orderId === orderId);
    await waitFor('the reservation outcome', () => outcomes().length > 0, { timeoutMs: 30_000 });
    // Long enough for a timed-out first attempt to have committed what it issued late.
    await sleep(2_000);
    expect(outcomes().map((p) => p.type)).toEqual(['inventory.reserved']);
    expect(await level(sku)).toEqual({ on_hand: before.on_hand, reserved: before.reserved + 2 });
    const [row] = await dataSource.query<{ status: string }[]>(
      `SELECT status FROM reservations WHERE order_id = $1`,
      [orderId],
    );
    expect(row?.status).toBe('RESERVED');
    const [outbox] = await dataSource.query<{ pending: string }[]>(
      `SELECT count(*) FILTER (WHERE sent_at IS NULL) AS pending FROM messaging_outbox`,
    );
    expect(outbox?.pending).toBe('0');
  });
});
