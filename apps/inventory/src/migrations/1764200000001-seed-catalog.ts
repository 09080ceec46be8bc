import { createEvent } from '@app/events';
import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The seed catalog. `LAMP-LTD` has 10 units on purpose: the race for the last units. */
export const SEED_PRODUCTS = [
  { sku: 'KEYBOARD-MX', name: 'Mechanical keyboard', priceCents: 8_900, onHand: 100 },
  { sku: 'MOUSE-WL', name: 'Wireless mouse', priceCents: 2_900, onHand: 200 },
  { sku: 'MONITOR-27', name: '27-inch monitor', priceCents: 24_900, onHand: 50 },
  { sku: 'HEADPHONES-NC', name: 'Noise-cancelling headphones', priceCents: 12_900, onHand: 80 },
  { sku: 'CABLE-USBC', name: 'USB-C cable', priceCents: 990, onHand: 500 },
  { sku: 'LAMP-LTD', name: 'Limited edition desk lamp', priceCents: 4_500, onHand: 10 },
] as const;
export const SEED_CURRENCY = 'EUR';

/** Creates the seed catalog and announces each product as `product.added` through the outbox. */
export class SeedCatalog1764200000001 implements MigrationInterface {
  name = 'SeedCatalog1764200000001';

  async up(runner: QueryRunner): Promise<void> {
    for (const product of SEED_PRODUCTS) {
      await runner.query(
        `INSERT INTO products (sku, name, price_cents, currency) VALUES ($1, $2, $3, $4)`,
        [product.sku, product.name, product.priceCents, SEED_CURRENCY],
      );
      await runner.query(`INSERT INTO stock (sku, on_hand) VALUES ($1, $2)`, [
        product.sku,
        product.onHand,
      ]);
      const event = createEvent(
        'product.added',
        {
          sku: product.sku,
          name: product.name,
          priceCents: product.priceCents,
          currency: SEED_CURRENCY,
        },
        {
          source: 'inventory',
          subject: product.sku,
          streamVersion: 1,
          correlationId: 'seed-catalog',
        },
      );
      await runner.query(
        `INSERT INTO messaging_outbox (event_id, type, exchange, mandatory, payload) VALUES ($1, $2, 'inventory.events', true, $3)`,
        [event.id, event.type, JSON.stringify(event)],
      );
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM stock`);
    await runner.query(`DELETE FROM products`);
  }
}
