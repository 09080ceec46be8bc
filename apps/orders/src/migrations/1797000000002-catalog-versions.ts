import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The catalog projection keeps each product's version (the `streamversion` of inventory's
 * product events), so an event that arrives late (after a retry) never overwrites a newer
 * one, and whether the product is discontinued. Rows already there came from
 * `product.added`, version 1.
 */
export class CatalogVersions1797000000002 implements MigrationInterface {
  name = 'CatalogVersions1797000000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE catalog_products
        ADD COLUMN version       integer NOT NULL DEFAULT 1,
        ADD COLUMN discontinued  boolean NOT NULL DEFAULT false`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE catalog_products DROP COLUMN version, DROP COLUMN discontinued`,
    );
  }
}
