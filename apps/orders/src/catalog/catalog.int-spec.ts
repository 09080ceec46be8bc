import { createEvent, type EventPayloads } from '@app/events';
import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, signJwt } from '@app/platform';
import { MessagingService } from '@app/messaging';
import {
  countOutcomes,
  type RunningServiceApp,
  startServiceApp,
  SuiteFixture,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ORDER_ERROR_STATUS } from '../http/order-error-status.js';
import { OrdersModule } from '../orders.module.js';

describe("the gateway's catalog projection and admin endpoints against RabbitMQ and PostgreSQL", () => {
  let fixture: SuiteFixture;
  let orders: RunningServiceApp;
  const keys = generateJwtKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const tokenOf = (role?: 'admin') =>
    signJwt(
      {
        sub: randomUUID(),
        email: 'ada@example.com',
        iss: JWT_ISSUER,
        aud: JWT_AUDIENCE,
        iat: now,
        exp: now + 3600,
        ...(role ? { role } : {}),
      },
      keys.privateKey,
    );
  const customer = tokenOf();
  const admin = tokenOf('admin');

  beforeAll(async () => {
    fixture = await SuiteFixture.create('orders-catalog');
    orders = await startServiceApp(
      'orders',
      (config) => OrdersModule.forRoot(config),
      {
        AMQP_URL: fixture.vhost.url,
        DATABASE_URL: fixture.database.url,
        JWT_PUBLIC_KEY: keys.publicKey,
        // Nothing listens there: an admin command that passes the gateway's checks gets 503.
        INVENTORY_URL: 'http://127.0.0.1:9',
        INVENTORY_TIMEOUT: '500ms',
      },
      ORDER_ERROR_STATUS,
    );
  });

  afterAll(async () => {
    await orders?.close();
    await fixture?.dispose();
  });

  const request = async (
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
  ) => {
    const response = await fetch(orders.url(path), {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const announce = <K extends 'product.added' | 'product.updated' | 'product.discontinued'>(
    type: K,
    data: EventPayloads[K],
    version: number,
  ) =>
    fixture.probe.publishEvent(
      createEvent(type, data, { source: 'inventory', subject: data.sku, streamVersion: version }),
    );
  const catalog = async () =>
    (await request('GET', '/products', undefined)).body as unknown as {
      sku: string;
      priceCents: number;
      name: string;
    }[];
  const priceOf = async (sku: string) => (await catalog()).find((p) => p.sku === sku)?.priceCents;
  const place = (sku: string) =>
    request('POST', '/orders', customer, { items: [{ sku, quantity: 1 }] });
  const unitPriceOf = async (orderId: string) => {
    const { body } = await request('GET', `/orders/${orderId}`, customer);
    return (body.items as { unitPriceCents: number }[] | undefined)?.[0]?.unitPriceCents;
  };

  it('prices orders placed after a price change at the new price; earlier orders keep theirs', async () => {
    const sku = `DESK-${randomUUID().slice(0, 8)}`;
    announce('product.added', { sku, name: 'Desk', priceCents: 10_000, currency: 'EUR' }, 1);
    await waitFor('the product in the catalog', async () => (await priceOf(sku)) === 10_000);
    const first = await place(sku);
    expect(first.status).toBe(202);
    announce('product.updated', { sku, name: 'Desk', priceCents: 12_500, currency: 'EUR' }, 2);
    await waitFor('the new price', async () => (await priceOf(sku)) === 12_500);
    const second = await place(sku);
    expect(second.status).toBe(202);
    expect(await unitPriceOf(first.body.orderId as string)).toBe(10_000);
    expect(await unitPriceOf(second.body.orderId as string)).toBe(12_500);
  });

  it('keeps the newest version when an older product event arrives late', async () => {
    const sku = `LAMP-${randomUUID().slice(0, 8)}`;
    announce('product.updated', { sku, name: 'Lamp v3', priceCents: 3_000, currency: 'EUR' }, 3);
    await waitFor('version 3', async () => (await priceOf(sku)) === 3_000);
    const outcomes = countOutcomes(orders.app.get(MessagingService));
    announce('product.updated', { sku, name: 'Lamp v2', priceCents: 2_000, currency: 'EUR' }, 2);
    announce('product.added', { sku, name: 'Lamp', priceCents: 1_000, currency: 'EUR' }, 1);
    await waitFor('both stale events handled', () => outcomes.handled >= 2);
    outcomes.stop();
    // ...and changed nothing.
    expect((await catalog()).find((p) => p.sku === sku)).toMatchObject({
      name: 'Lamp v3',
      priceCents: 3_000,
    });
  });

  it('refuses new orders of a discontinued product with 422 and drops it from the catalog', async () => {
    const sku = `GONE-${randomUUID().slice(0, 8)}`;
    announce('product.added', { sku, name: 'Gone', priceCents: 500, currency: 'EUR' }, 1);
    await waitFor('the product', async () => (await priceOf(sku)) === 500);
    announce('product.discontinued', { sku }, 2);
    await waitFor('it left the catalog', async () => (await priceOf(sku)) === undefined);
    const refused = await place(sku);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain('Discontinued');
  });

  const adminCalls: [string, string, unknown?][] = [
    ['GET', '/admin/products'],
    [
      'POST',
      '/admin/products',
      { sku: 'NEW-1', name: 'New', priceCents: 1, currency: 'EUR', initialStock: 1 },
    ],
    ['PATCH', '/admin/products/KEYBOARD-MX', { priceCents: 9_900 }],
    ['POST', '/admin/products/KEYBOARD-MX/discontinue'],
    ['POST', '/admin/products/KEYBOARD-MX/stock-adjustments', { reason: 'received', change: 5 }],
    ['GET', '/admin/products/KEYBOARD-MX/stock-adjustments'],
  ];

  it('answers 401 without a token and 403 to a customer on every admin endpoint', async () => {
    for (const [method, path, body] of adminCalls) {
      expect([method, path, (await request(method, path, undefined, body)).status]).toEqual([
        method,
        path,
        401,
      ]);
      const forbidden = await request(method, path, customer, body);
      expect([method, path, forbidden.status]).toEqual([method, path, 403]);
      expect(forbidden.body.message).toContain('administrators');
    }
  });

  it("lets an admin's valid command through to inventory (503 while it is unreachable), bad input 400 first", async () => {
    for (const [method, path, body] of adminCalls)
      expect([method, path, (await request(method, path, admin, body)).status]).toEqual([
        method,
        path,
        503,
      ]);
    const bad = await request('POST', '/admin/products/KEYBOARD-MX/stock-adjustments', admin, {
      reason: 'stolen',
      change: 1,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('reason must be one of');
    expect(
      (await request('PATCH', '/admin/products/bad%20sku', admin, { priceCents: 1 })).status,
    ).toBe(400);
  });
});
