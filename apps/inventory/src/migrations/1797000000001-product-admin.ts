import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * What administering the catalog needs: each product's version (the `streamversion` of its
 * events, so projections apply them in order) and its discontinuation, and the record of every
 * stock adjustment with who made it and why. Products already there (the seed) keep their rows
 * at version 1, the version of the `product.added` they were announced with.
 */
export class ProductAdmin1797000000001 implements MigrationInterface {
  name = 'ProductAdmin1797000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE products
        ADD COLUMN version          integer NOT NULL DEFAULT 1,
        ADD COLUMN discontinued_at  timestamptz,
        ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now()`);
    await runner.query(`
      CREATE TABLE stock_adjustments (
        id              bigserial PRIMARY KEY,
        sku             text NOT NULL REFERENCES products (sku),
        reason          text NOT NULL,
        change          integer NOT NULL,
        on_hand         integer NOT NULL,
        actor           text NOT NULL,
        note            text,
        correlation_id  text,
        idempotency_key text UNIQUE,
        made_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX stock_adjustments_by_sku ON stock_adjustments (sku, id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE stock_adjustments`);
    await runner.query(
      `ALTER TABLE products DROP COLUMN version, DROP COLUMN discontinued_at, DROP COLUMN updated_at`,
    );
  }
}
