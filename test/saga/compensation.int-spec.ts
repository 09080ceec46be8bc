import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, signJwt } from '@app/platform';
import {
  createTestDatabase,
  queryOn,
  type RunningServiceApp,
  startServiceApp,
  SuiteFixture,
  type TestDatabase,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InventoryModule } from '../../apps/inventory/src/inventory.module.js';
import { ORDER_ERROR_STATUS } from '../../apps/orders/src/http/order-error-status.js';
import { OrdersModule } from '../../apps/orders/src/orders.module.js';

// The saga's compensation across two services: an order whose reservation deadline passes
// while inventory is away is rejected, and when inventory comes back and reserves it late, the
// rejection releases that stock again.
describe('an order rejected by its reservation deadline', () => {
  let fixture: SuiteFixture;
  let inventoryDb: TestDatabase;
  let orders: RunningServiceApp;
  let inventory: RunningServiceApp | undefined;
  const keys = generateJwtKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { sub: randomUUID(), iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 3600 },
    keys.privateKey,
  );
  const startInventory = () =>
    startServiceApp('inventory', (config) => InventoryModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: inventoryDb.url,
      RETRY_DELAYS: '100ms,200ms',
    });
  const stock = async (sku: string) =>
    (
      await queryOn<{ on_hand: number; reserved: number }>(
        inventoryDb.url,
        `SELECT on_hand, reserved FROM stock WHERE sku = $1`,
        [sku],
      )
    )[0]!;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('compensation');
    inventoryDb = await createTestDatabase('compensation_inventory');
    inventory = await startInventory();
    orders = await startServiceApp(
      'orders',
      (config) => OrdersModule.forRoot(config),
      {
        AMQP_URL: fixture.vhost.url,
        DATABASE_URL: fixture.database.url,
        JWT_PUBLIC_KEY: keys.publicKey,
        ORDER_RESERVATION_TIMEOUT: '1s',
        RETRY_DELAYS: '100ms,200ms',
      },
      ORDER_ERROR_STATUS,
    );
    await waitFor('the catalog projection', async () => {
      const products = (await (await fetch(orders.url('/products'))).json()) as unknown[];
      return products.length >= 6;
    });
  });

  afterAll(async () => {
    await inventory?.close();
    await orders?.close();
    await inventoryDb?.dispose();
    await fixture?.dispose();
  });

  it('gets its stock back when inventory reserves it after the rejection', async () => {
    const before = await stock('MONITOR-27');
    await inventory!.close();
    inventory = undefined;
    const placed = await fetch(orders.url('/orders'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'MONITOR-27', quantity: 4 }] }),
    });
    expect(placed.status).toBe(202);
    const { orderId } = (await placed.json()) as { orderId: string };
    const statusOf = async () =>
      (
        (await (
          await fetch(orders.url(`/orders/${orderId}`), {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json()) as { status: string }
      ).status;
    await waitFor(
      'the deadline to reject the order',
      async () => (await statusOf()) === 'REJECTED',
    );

    inventory = await startInventory();
    // inventory now handles order.placed (a late reservation) and order.rejected, in either order.
    await waitFor('the late reservation to be released', async () => {
      const [row] = await queryOn<{ status: string }>(
        inventoryDb.url,
        `SELECT status FROM reservations WHERE order_id = $1`,
        [orderId],
      );
      return row?.status === 'RELEASED' || row?.status === 'REJECTED';
    });
    expect(await stock('MONITOR-27')).toEqual(before);
    // The saga ignores the late inventory.reserved: the order stays rejected.
    expect(await statusOf()).toBe('REJECTED');
  });
});
