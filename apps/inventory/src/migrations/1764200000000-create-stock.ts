import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Products, stock levels and one reservation row per order. */
export class CreateStock1764200000000 implements MigrationInterface {
  name = 'CreateStock1764200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE products (
        sku          text PRIMARY KEY,
        name         text NOT NULL,
        price_cents  integer NOT NULL CHECK (price_cents >= 0),
        currency     char(3) NOT NULL
      )`);
    await runner.query(`
      CREATE TABLE stock (
        sku       text PRIMARY KEY REFERENCES products (sku),
        on_hand   integer NOT NULL CHECK (on_hand >= 0),
        reserved  integer NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand)
      )`);
    // status: NEW (row locked first by whichever of placed/cancelled comes first), RESERVED,
    // FAILED, CANCELLED (cancelled before placed), RELEASED, SOLD.
    await runner.query(`
      CREATE TABLE reservations (
        order_id    uuid PRIMARY KEY,
        status      text NOT NULL,
        items       jsonb NOT NULL DEFAULT '[]',
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE reservations`);
    await runner.query(`DROP TABLE stock`);
    await runner.query(`DROP TABLE products`);
  }
}
