import { waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { call, System } from './system.js';

interface Order {
  orderId: string;
  status: string;
  totalCents: number;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
}

describe('Running the shop: an admin manages the catalog and stock end to end', () => {
  let system: System;

  beforeAll(async () => {
    system = await System.start();
  });

  afterAll(async () => {
    await system?.stop();
  });

  const gateway = (path: string) => system.url('orders', path);
  const signUp = async (name: string) => {
    const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
    expect(
      (await call(gateway('/users'), { body: { email, name, password: 'correct horse battery' } }))
        .status,
    ).toBe(201);
    return email;
  };
  const tokenOf = async (email: string) =>
    (
      (await call(gateway('/auth/token'), { body: { email, password: 'correct horse battery' } }))
        .body as { accessToken: string }
    ).accessToken;
  const until = (token: string, orderId: string, status: string) =>
    waitFor(`order ${orderId} to be ${status}`, async () => {
      const order = (await call(gateway(`/orders/${orderId}`), { token })).body as Order;
      return order.status === status ? order : undefined;
    });
  const listedPrice = async (sku: string) =>
    ((await call(gateway('/products'))).body as { sku: string; priceCents: number }[]).find(
      (p) => p.sku === sku,
    )?.priceCents;

  it('an admin adds a product and receives stock; a customer buys it; a new price applies to the next order only', async () => {
    const adminEmail = await signUp('Grace');
    // As an operator does: the npm script, against the users database.
    const root = join(import.meta.dirname, '..', '..');
    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'users', '--', 'grant-admin', adminEmail, '--operator', 'e2e'],
      { cwd: root, env: { ...process.env, DATABASE_URL: system.databases.users.url } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ role: 'admin', changed: true, operator: 'e2e' });
    const admin = await tokenOf(adminEmail);
    const customer = await tokenOf(await signUp('Ada'));
    const sku = `DESK-${randomUUID().slice(0, 8)}`;

    const added = await call(gateway('/admin/products'), {
      token: admin,
      body: { sku, name: 'Oak desk', priceCents: 35_000, currency: 'EUR', initialStock: 2 },
    });
    expect(added.status).toBe(201);
    const received = await call(gateway(`/admin/products/${sku}/stock-adjustments`), {
      token: admin,
      body: { reason: 'received', change: 8, note: 'Delivery 4711' },
    });
    expect(received.status).toBe(201);
    expect(received.body).toMatchObject({ onHand: 10, actor: expect.stringContaining(adminEmail) });

    await waitFor('the product in the catalog', async () => (await listedPrice(sku)) === 35_000);
    const first = await call(gateway('/orders'), {
      token: customer,
      body: { items: [{ sku, quantity: 3 }] },
    });
    expect(first.status).toBe(202);
    const firstId = (first.body as { orderId: string }).orderId;
    await until(customer, firstId, 'CONFIRMED');

    // 3 of the 10 are reserved: a correction down to 2 is refused, naming what is reserved.
    const below = await call(gateway(`/admin/products/${sku}/stock-adjustments`), {
      token: admin,
      body: { reason: 'count-correction', change: -8 },
    });
    expect(below.status).toBe(409);
    expect((below.body as { message: string }).message).toContain('reserve 3');

    const raised = await call(gateway(`/admin/products/${sku}`), {
      method: 'PATCH',
      token: admin,
      body: { priceCents: 39_900 },
    });
    expect(raised.status).toBe(200);
    await waitFor('the new price', async () => (await listedPrice(sku)) === 39_900);
    const second = await call(gateway('/orders'), {
      token: customer,
      body: { items: [{ sku, quantity: 1 }] },
    });
    const secondOrder = await until(
      customer,
      (second.body as { orderId: string }).orderId,
      'CONFIRMED',
    );
    const firstOrder = (await call(gateway(`/orders/${firstId}`), { token: customer }))
      .body as Order;
    expect(firstOrder.items[0]!.unitPriceCents).toBe(35_000);
    expect(firstOrder.totalCents).toBe(3 * 35_000);
    expect(secondOrder.items[0]!.unitPriceCents).toBe(39_900);

    const products = (await call(gateway('/admin/products'), { token: admin })).body as {
      sku: string;
      onHand: number;
      reserved: number;
    }[];
    expect(products.find((p) => p.sku === sku)).toMatchObject({ onHand: 10, reserved: 4 });
    const records = (
      await call(gateway(`/admin/products/${sku}/stock-adjustments`), { token: admin })
    ).body as { reason: string; change: number }[];
    expect(records.map((r) => [r.reason, r.change])).toEqual([
      ['received', 2],
      ['received', 8],
    ]);

    const discontinued = await call(gateway(`/admin/products/${sku}/discontinue`), {
      method: 'POST',
      token: admin,
    });
    expect(discontinued.status).toBe(200);
    await waitFor('it left the catalog', async () => (await listedPrice(sku)) === undefined);
    const refused = await call(gateway('/orders'), {
      token: customer,
      body: { items: [{ sku, quantity: 1 }] },
    });
    expect(refused.status).toBe(422);
  });

  it('answers a customer 403 on every admin endpoint', async () => {
    const customer = await tokenOf(await signUp('Linus'));
    const calls: [string, string, unknown?][] = [
      ['GET', '/admin/products'],
      [
        'POST',
        '/admin/products',
        { sku: 'X-1', name: 'X', priceCents: 1, currency: 'EUR', initialStock: 0 },
      ],
      ['PATCH', '/admin/products/KEYBOARD-MX', { priceCents: 1 }],
      ['POST', '/admin/products/KEYBOARD-MX/discontinue'],
      ['POST', '/admin/products/KEYBOARD-MX/stock-adjustments', { reason: 'damaged', change: -1 }],
      ['GET', '/admin/products/KEYBOARD-MX/stock-adjustments'],
    ];
    for (const [method, path, body] of calls) {
      const answer = await call(gateway(path), { method, token: customer, body });
      expect([method, path, answer.status]).toEqual([method, path, 403]);
    }
    expect(await listedPrice('KEYBOARD-MX')).toBe(8_900);
  });

  it('seeds through the admin API: npm run seed finds the development catalog in place', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'seed'], {
      cwd: root,
      env: { ...process.env, INVENTORY_URL: system.url('inventory', '') },
    });
    expect(stdout.trim().split('\n')).toEqual([
      'KEYBOARD-MX is there already',
      'MOUSE-WL is there already',
      'MONITOR-27 is there already',
      'HEADPHONES-NC is there already',
      'CABLE-USBC is there already',
      'LAMP-LTD is there already',
    ]);
  });
});
