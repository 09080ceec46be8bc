import { MESSAGING_MIGRATIONS } from '@app/messaging';
import { dataSourceOptions } from '@app/platform';
import {
  createTestDatabase,
  startServiceApp,
  type TestDatabase,
  type TestVhost,
  createTestVhost,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { CATALOG_ERROR_STATUS } from '../catalog/catalog-decision.js';
import { InventoryModule } from '../inventory.module.js';
import { CreateStock1764200000000 } from './1764200000000-create-stock.js';
import { SeedCatalog1764200000001 } from './1764200000001-seed-catalog.js';

/** What the seed migration of the release before wrote: rows, not commands. */
const FORMER_SEED = [
  ['KEYBOARD-MX', 'Mechanical keyboard', 8_900, 97],
  ['MOUSE-WL', 'Wireless mouse', 2_900, 200],
  ['MONITOR-27', '27-inch monitor', 24_900, 50],
  ['HEADPHONES-NC', 'Noise-cancelling headphones', 12_900, 80],
  ['CABLE-USBC', 'USB-C cable', 990, 500],
  ['LAMP-LTD', 'Limited edition desk lamp', 4_500, 3],
] as const;

describe('upgrading an inventory database its former seed migration filled', () => {
  let database: TestDatabase;
  let vhost: TestVhost;

  beforeAll(async () => {
    database = await createTestDatabase('inventory_upgrade');
    vhost = await createTestVhost('inventory-upgrade');
    // The database as the release before left it: its migrations applied, the seed's rows in
    // place (with stock since sold), the seed recorded as run.
    const former = await new DataSource(
      dataSourceOptions(database.url, [
        ...MESSAGING_MIGRATIONS,
        CreateStock1764200000000,
        SeedCatalog1764200000001,
      ]),
    ).initialize();
    await former.runMigrations();
    for (const [sku, name, price, onHand] of FORMER_SEED) {
      await former.query(
        `INSERT INTO products (sku, name, price_cents, currency) VALUES ($1, $2, $3, 'EUR')`,
        [sku, name, price],
      );
      await former.query(`INSERT INTO stock (sku, on_hand) VALUES ($1, $2)`, [sku, onHand]);
    }
    await former.destroy();
  });

  afterAll(async () => {
    await database?.dispose();
    await vhost?.dispose();
  });

  it('keeps the seeded products and their stock, seeds nothing again, and lets an admin change them', async () => {
    const inventory = await startServiceApp(
      'inventory',
      (config) => InventoryModule.forRoot(config),
      { AMQP_URL: vhost.url, DATABASE_URL: database.url },
      CATALOG_ERROR_STATUS,
    );
    try {
      const products = (await (await fetch(inventory.url('/internal/products'))).json()) as {
        sku: string;
        onHand: number;
        version: number;
      }[];
      expect(products.map((p) => [p.sku, p.onHand, p.version]).sort()).toEqual(
        FORMER_SEED.map(([sku, , , onHand]) => [sku, onHand, 1]).sort(),
      );
      const dataSource = inventory.app.get(DataSource);
      expect(await dataSource.query(`SELECT * FROM stock_adjustments`)).toEqual([]);
      expect(
        await dataSource.query(`SELECT type FROM messaging_outbox WHERE type LIKE 'product.%'`),
      ).toEqual([]);
      const changed = await fetch(inventory.url('/internal/products/LAMP-LTD'), {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ priceCents: 4_900 }),
      });
      expect(changed.status).toBe(200);
      expect(await changed.json()).toMatchObject({ priceCents: 4_900, version: 2, onHand: 3 });
    } finally {
      await inventory.close();
    }
  });
});
