import { createEvent } from '@app/events';
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

describe('two inventory replicas as competing consumers', () => {
  let fixture: SuiteFixture;
  const replicas: RunningServiceApp[] = [];

  beforeAll(async () => {
    fixture = await SuiteFixture.create('replicas');
    const env = { AMQP_URL: fixture.vhost.url, DATABASE_URL: fixture.database.url, PREFETCH: '2' };
    // Both boot at once against an empty database: migrations run once, under the lock.
    replicas.push(
      ...(await Promise.all([
        startServiceApp('inventory', (c) => InventoryModule.forRoot(c), env),
        startServiceApp('inventory', (c) => InventoryModule.forRoot(c), env),
      ])),
    );
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await fixture?.dispose();
  });

  it('share the queue, and 20 orders for the last 10 units reserve exactly 10', async () => {
    const outcomes = replicas.map((replica) => countOutcomes(replica.app.get(MessagingService)));
    const published = await fixture.probe.capture('inventory.events', 'inventory.#');
    const orders = Array.from({ length: 20 }, () => randomUUID());
    for (const orderId of orders) {
      const event = createEvent(
        'order.placed',
        {
          orderId,
          userId: randomUUID(),
          items: [{ sku: 'LAMP-LTD', quantity: 1, unitPriceCents: 4500 }],
          totalCents: 4500,
          currency: 'EUR',
        },
        { source: 'orders', subject: orderId },
      );
      fixture.probe.publishEvent(event);
    }
    await waitFor('20 outcomes', () => published.length === 20, { timeoutMs: 30_000 });
    expect(published.filter((p) => p.type === 'inventory.reserved')).toHaveLength(10);
    expect(published.filter((p) => p.type === 'inventory.reservation-failed')).toHaveLength(10);
    const [stock] = await replicas[0]!.app
      .get(DataSource)
      .query<{ on_hand: number; reserved: number }[]>(
        `SELECT on_hand, reserved FROM stock WHERE sku = 'LAMP-LTD'`,
      );
    expect(stock).toEqual({ on_hand: 10, reserved: 10 });
    const handled = outcomes.map((counts) => counts.handled);
    expect(handled.every((count) => count > 0)).toBe(true);
    expect(handled.reduce((a, b) => a + b, 0)).toBe(20);
    const [seeded] = await replicas[0]!.app
      .get(DataSource)
      .query<{ n: string }[]>(`SELECT count(*) AS n FROM products`);
    expect(Number(seeded!.n)).toBe(6);
  });
});
