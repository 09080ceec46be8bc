import { type AdminProductView, type StockAdjustmentView } from '@app/contracts';
import { createEvent } from '@app/events';
import { type RunningServiceApp, startServiceApp, SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InventoryModule } from '../inventory.module.js';
import { CATALOG_ERROR_STATUS } from './catalog-decision.js';
import { SEED_PRODUCTS } from './seed-catalog.js';

describe("inventory's catalog administration against RabbitMQ and PostgreSQL", () => {
  let fixture: SuiteFixture;
  let inventory: RunningServiceApp;
  let published: { type: string; body: Record<string, unknown> }[];

  beforeAll(async () => {
    fixture = await SuiteFixture.create('catalog-admin');
    published = await fixture.probe.capture('inventory.events');
    inventory = await startServiceApp(
      'inventory',
      (config) => InventoryModule.forRoot(config),
      { AMQP_URL: fixture.vhost.url, DATABASE_URL: fixture.database.url },
      CATALOG_ERROR_STATUS,
    );
  });

  afterAll(async () => {
    await inventory?.close();
    await fixture?.dispose();
  });

  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(inventory.url(`/internal/products${path}`), {
      method,
      headers: {
        'content-type': 'application/json',
        'x-actor': 'ada@example.com (admin)',
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const eventsOf = (sku: string, type: string) =>
    published.filter(
      (p) => p.type === type && (p.body.data as { sku?: string } | undefined)?.sku === sku,
    );
  const newProduct = (initialStock = 20) => ({
    sku: `DESK-${randomUUID().slice(0, 8)}`,
    name: 'Oak desk',
    priceCents: 35_000,
    currency: 'EUR',
    initialStock,
  });

  it('seeds the development catalog through the admin code path: events, stock and records', async () => {
    const { body: products } = await call<AdminProductView[]>('GET', '');
    for (const seed of SEED_PRODUCTS) {
      expect(products).toContainEqual(
        expect.objectContaining({ sku: seed.sku, onHand: seed.initialStock, version: 1 }),
      );
      const { body: records } = await call<StockAdjustmentView[]>(
        'GET',
        `/${seed.sku}/stock-adjustments`,
      );
      expect(records).toEqual([
        expect.objectContaining({ reason: 'received', change: seed.initialStock, actor: 'seed' }),
      ]);
    }
    await waitFor('the seed announced', () =>
      SEED_PRODUCTS.every(
        (seed) =>
          eventsOf(seed.sku, 'product.added').length === 1 &&
          eventsOf(seed.sku, 'stock.adjusted').length === 1,
      ),
    );
  });

  it('adds a product with its stock, announced as product.added and stock.adjusted', async () => {
    const product = newProduct(20);
    const added = await call<AdminProductView>('POST', '', product);
    expect(added).toEqual({
      status: 201,
      body: {
        sku: product.sku,
        name: 'Oak desk',
        priceCents: 35_000,
        currency: 'EUR',
        version: 1,
        discontinued: false,
        onHand: 20,
        reserved: 0,
        available: 20,
      },
    });
    await waitFor('both events', () => eventsOf(product.sku, 'stock.adjusted').length === 1);
    expect(eventsOf(product.sku, 'product.added')[0]!.body).toMatchObject({
      subject: product.sku,
      streamversion: 1,
      data: { sku: product.sku, name: 'Oak desk', priceCents: 35_000, currency: 'EUR' },
    });
    expect(eventsOf(product.sku, 'stock.adjusted')[0]!.body.data).toEqual({
      sku: product.sku,
      reason: 'received',
      change: 20,
      onHand: 20,
      reserved: 0,
    });
    expect((await call('POST', '', product)).status).toBe(409);
  });

  it('changes a price at the next version, once, and refuses a change that changes nothing', async () => {
    const product = newProduct();
    await call('POST', '', product);
    const changed = await call<AdminProductView>('PATCH', `/${product.sku}`, {
      priceCents: 39_900,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ priceCents: 39_900, version: 2 });
    await waitFor('product.updated', () => eventsOf(product.sku, 'product.updated').length === 1);
    expect(eventsOf(product.sku, 'product.updated')[0]!.body).toMatchObject({
      streamversion: 2,
      data: { priceCents: 39_900, name: 'Oak desk', currency: 'EUR' },
    });
    expect((await call('PATCH', `/${product.sku}`, { priceCents: 39_900 })).status).toBe(409);
    expect((await call('PATCH', '/NO-SUCH-SKU', { priceCents: 1 })).status).toBe(404);
    expect(
      (await call('POST', '/NO-SUCH-SKU/stock-adjustments', { reason: 'received', change: 1 }))
        .status,
    ).toBe(404);
    expect((await call('GET', '/NO-SUCH-SKU/stock-adjustments')).status).toBe(404);
  });

  it('discontinues a product once; a discontinued product cannot be changed', async () => {
    const product = newProduct();
    await call('POST', '', product);
    const gone = await call<AdminProductView>('POST', `/${product.sku}/discontinue`);
    expect(gone.body).toMatchObject({ discontinued: true, version: 2 });
    await waitFor('product.discontinued', () =>
      eventsOf(product.sku, 'product.discontinued').some((p) => p.body.streamversion === 2),
    );
    expect((await call('POST', `/${product.sku}/discontinue`)).status).toBe(409);
    expect((await call('PATCH', `/${product.sku}`, { name: 'Pine desk' })).status).toBe(409);
  });

  it('records every stock adjustment with who and why, and never goes below what is reserved', async () => {
    const product = newProduct(10);
    await call('POST', '', product);
    // An order reserves 6 of the 10.
    const orderId = randomUUID();
    fixture.probe.publishEvent(
      createEvent(
        'order.placed',
        {
          orderId,
          userId: randomUUID(),
          items: [{ sku: product.sku, quantity: 6, unitPriceCents: 35_000 }],
          totalCents: 6 * 35_000,
          currency: 'EUR',
        },
        { source: 'orders', subject: orderId },
      ),
    );
    await waitFor('the reservation', () =>
      published.some(
        (p) =>
          p.type === 'inventory.reserved' &&
          (p.body.data as { orderId: string }).orderId === orderId,
      ),
    );
    const refused = await call('POST', `/${product.sku}/stock-adjustments`, {
      reason: 'count-correction',
      change: -5,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('below what is reserved');
    const damaged = await call<StockAdjustmentView>('POST', `/${product.sku}/stock-adjustments`, {
      reason: 'damaged',
      change: -4,
      note: 'Dropped from the shelf',
    });
    expect(damaged.status).toBe(201);
    expect(damaged.body).toMatchObject({ onHand: 6, actor: 'ada@example.com (admin)' });
    const received = await call('POST', `/${product.sku}/stock-adjustments`, {
      reason: 'received',
      change: 30,
    });
    expect(received.status).toBe(201);
    const { body: records } = await call<StockAdjustmentView[]>(
      'GET',
      `/${product.sku}/stock-adjustments`,
    );
    expect(records.map((r) => [r.reason, r.change, r.onHand])).toEqual([
      ['received', 10, 10],
      ['damaged', -4, 6],
      ['received', 30, 36],
    ]);
    expect(records[1]!.note).toBe('Dropped from the shelf');
    const { body: level } = await call<AdminProductView[]>('GET', '');
    expect(level.find((p) => p.sku === product.sku)).toMatchObject({
      onHand: 36,
      reserved: 6,
      available: 30,
    });
    await waitFor(
      'three stock.adjusted',
      () => eventsOf(product.sku, 'stock.adjusted').length === 3,
    );
    expect(eventsOf(product.sku, 'stock.adjusted').at(-1)!.body.data).toMatchObject({
      onHand: 36,
      reserved: 6,
      change: 30,
    });
  });

  it('applies a stock adjustment once per Idempotency-Key, however often and however concurrently it is sent', async () => {
    const product = newProduct(0);
    await call('POST', '', product);
    const key = { 'idempotency-key': randomUUID() };
    const receipt = { reason: 'received', change: 7 };
    const answers = await Promise.all(
      [1, 2, 3].map(() =>
        call<StockAdjustmentView>('POST', `/${product.sku}/stock-adjustments`, receipt, key),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    const again = await call<StockAdjustmentView>(
      'POST',
      `/${product.sku}/stock-adjustments`,
      receipt,
      key,
    );
    expect(again.body.id).toBe(answers[0]!.body.id);
    const { body: records } = await call<StockAdjustmentView[]>(
      'GET',
      `/${product.sku}/stock-adjustments`,
    );
    expect(records).toHaveLength(1);
    const { body: level } = await call<AdminProductView[]>('GET', '');
    expect(level.find((p) => p.sku === product.sku)?.onHand).toBe(7);
    const reused = await call(
      'POST',
      `/${product.sku}/stock-adjustments`,
      { ...receipt, change: 8 },
      key,
    );
    expect(reused.status).toBe(409);
    expect(reused.body.message).toContain('Idempotency-Key');
  });

  it('answers bad input with 400 and a message, and a wrong sign with 422', async () => {
    const bad = [
      ['POST', '', { ...newProduct(), sku: 'no spaces allowed' }],
      ['POST', '', { ...newProduct(), priceCents: -1 }],
      ['POST', '', { ...newProduct(), currency: 'euro' }],
      ['POST', '/KEYBOARD-MX/stock-adjustments', { reason: 'stolen', change: -1 }],
      ['POST', '/KEYBOARD-MX/stock-adjustments', { reason: 'received', change: 0 }],
      ['PATCH', '/KEYBOARD-MX', { priceCents: 1.5 }],
      ['PATCH', '/bad%20sku', { priceCents: 1 }],
    ] as const;
    for (const [method, path, body] of bad) {
      const answer = await call(method, path, body);
      expect([path, answer.status]).toEqual([path, 400]);
      expect(typeof answer.body.message).toBe('string');
    }
    const wrongSign = await call('POST', '/KEYBOARD-MX/stock-adjustments', {
      reason: 'received',
      change: -3,
    });
    expect(wrongSign.status).toBe(422);
  });
});

describe('inventory with SEED_CATALOG=false', () => {
  it('starts with an empty catalog: a real shop adds its products through the admin API', async () => {
    const fixture = await SuiteFixture.create('catalog-unseeded');
    const inventory = await startServiceApp(
      'inventory',
      (config) => InventoryModule.forRoot(config),
      {
        AMQP_URL: fixture.vhost.url,
        DATABASE_URL: fixture.database.url,
        SEED_CATALOG: 'false',
      },
    );
    try {
      expect(await (await fetch(inventory.url('/internal/products'))).json()).toEqual([]);
    } finally {
      await inventory.close();
      await fixture.dispose();
    }
  });
});
