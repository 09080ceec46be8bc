import { createEvent } from '@app/events';
import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, signJwt } from '@app/platform';
import { type RunningServiceApp, startServiceApp, SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { ORDER_ERROR_STATUS } from '../http/order-error-status.js';
import { OrdersModule } from '../orders.module.js';

describe('orders against PostgreSQL and RabbitMQ', () => {
  let fixture: SuiteFixture;
  let orders: RunningServiceApp | undefined;
  const keys = generateJwtKeyPair();
  const userId = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { sub: userId, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 3600 },
    keys.privateKey,
  );
  const env = () => ({
    AMQP_URL: fixture.vhost.url,
    DATABASE_URL: fixture.database.url,
    JWT_PUBLIC_KEY: keys.publicKey,
    ORDER_RESERVATION_TIMEOUT: '1s',
    RETRY_DELAYS: '100ms,200ms',
  });
  const start = () =>
    startServiceApp('orders', (config) => OrdersModule.forRoot(config), env(), ORDER_ERROR_STATUS);

  beforeAll(async () => {
    fixture = await SuiteFixture.create('orders');
    orders = await start();
    await orders.app
      .get(DataSource)
      .query(
        `INSERT INTO catalog_products (sku, name, price_cents, currency) VALUES ('WIDGET', 'Widget', 250, 'EUR')`,
      );
  });

  afterAll(async () => {
    await orders?.close();
    await fixture?.dispose();
  });

  const request = async (path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(orders!.url(path), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const place = async () => {
    const placed = await request('/orders', { items: [{ sku: 'WIDGET', quantity: 2 }] });
    expect(placed.status).toBe(202);
    return placed.body.orderId as string;
  };
  const reserve = (orderId: string) => {
    const event = createEvent(
      'inventory.reserved',
      { orderId, items: [{ sku: 'WIDGET', quantity: 2 }] },
      { source: 'inventory' },
    );
    fixture.probe.publishEvent(event);
    return event;
  };

  it('rejects a PENDING order whose reservation deadline passed while the service was down', async () => {
    const orderId = await place();
    await orders!.close();
    orders = undefined;
    // The deadline passes while the service is down: it is persisted, not a timer in memory.
    const client = new pg.Client({ connectionString: fixture.database.url });
    await client.connect();
    const { rowCount } = await client.query(
      `UPDATE order_deadlines SET due_at = now() - interval '1 second' WHERE order_id = $1 AND kind = 'reservation'`,
      [orderId],
    );
    await client.end();
    expect(rowCount).toBe(1);
    orders = await start();
    const order = await waitFor('the deadline to be applied after the restart', async () => {
      const current = await request(`/orders/${orderId}`);
      return current.body.status === 'REJECTED' ? current.body : undefined;
    });
    expect(order.version).toBe(2);
    const events = await request(`/orders/${orderId}/events`);
    expect(
      (events.body as unknown as { type: string; data: { reason: string } }[]).at(-1),
    ).toMatchObject({
      type: 'order.rejected',
      data: { reason: 'No reservation outcome in time' },
    });
  });

  it('applies every due deadline when one of them cannot be applied', async () => {
    // A deadline whose order has no events (ORDER.NOT_FOUND), due before a real one: it must
    // not hold the others back (a batch in one transaction rolled them all back, for ever).
    const orphan = randomUUID();
    await orders!.app
      .get(DataSource)
      .query(
        `INSERT INTO order_deadlines (order_id, kind, due_at) VALUES ($1, 'reservation', now() - interval '1 minute')`,
        [orphan],
      );
    const orderId = await place();
    await waitFor(
      'the real order to be rejected by its deadline',
      async () => (await request(`/orders/${orderId}`)).body.status === 'REJECTED',
      { timeoutMs: 15_000 },
    );
    await waitFor('the orphan deadline to be dropped', async () => {
      const rows = await orders!.app
        .get(DataSource)
        .query<unknown[]>(`SELECT 1 FROM order_deadlines WHERE order_id = $1`, [orphan]);
      return rows.length === 0;
    });
  });

  it('ignores a reservation outcome for an order already finished', async () => {
    const orderId = await place();
    await waitFor(
      'the reservation timeout',
      async () => (await request(`/orders/${orderId}`)).body.status === 'REJECTED',
    );
    const late = reserve(orderId);
    await waitFor('the late outcome to be handled', async () => {
      const rows = await orders!.app
        .get(DataSource)
        .query<unknown[]>(`SELECT 1 FROM messaging_inbox WHERE event_id = $1`, [late.id]);
      return rows.length === 1;
    });
    expect((await request(`/orders/${orderId}`)).body).toMatchObject({
      status: 'REJECTED',
      version: 2,
    });
  });

  it('answers concurrent commands on one order with one success and 409s, never a 500', async () => {
    const orderId = await place();
    reserve(orderId);
    await waitFor(
      'the confirmation',
      async () => (await request(`/orders/${orderId}`)).body.status === 'CONFIRMED',
    );
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => request(`/orders/${orderId}/cancel`, {})),
      ...Array.from({ length: 4 }, () =>
        request(`/orders/${orderId}/payments`, { amountCents: 500 }),
      ),
    ]);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const events = (await request(`/orders/${orderId}/events`)).body as unknown as {
      sequence: number;
    }[];
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3]);
  });

  it('creates one order for concurrent requests with the same Idempotency-Key and body', async () => {
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        request('/orders', { items: [{ sku: 'WIDGET', quantity: 1 }] }, { 'Idempotency-Key': key }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.orderId)).size).toBe(1);
    const [count] = await orders!.app
      .get(DataSource)
      .query<{ n: string }[]>(`SELECT count(*) AS n FROM order_events WHERE stream_id = $1`, [
        answers[0]!.body.orderId,
      ]);
    expect(Number(count!.n)).toBe(1);
  });

  it('answers 503 when the users service cannot be reached', async () => {
    const gateway = await startServiceApp(
      'orders',
      (config) => OrdersModule.forRoot(config),
      { ...env(), USERS_URL: 'http://127.0.0.1:9', USERS_TIMEOUT: '500ms' },
      ORDER_ERROR_STATUS,
    );
    try {
      const response = await fetch(gateway.url('/users'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', name: 'Ada', password: 'correct horse' }),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The users service is unavailable; try again shortly.',
      });
    } finally {
      await gateway.close();
    }
  });
});
