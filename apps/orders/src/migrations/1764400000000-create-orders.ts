import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Event store, read model, idempotency keys, saga deadlines and the catalog projection. */
export class CreateOrders1764400000000 implements MigrationInterface {
  name = 'CreateOrders1764400000000';

  async up(runner: QueryRunner): Promise<void> {
    // Append-only; position is global, (stream_id, version) gives optimistic concurrency.
    await runner.query(`
      CREATE TABLE order_events (
        position       bigserial PRIMARY KEY,
        stream_id      uuid NOT NULL,
        version        integer NOT NULL,
        event_id       uuid NOT NULL UNIQUE,
        type           text NOT NULL,
        event_version  integer NOT NULL,
        data           jsonb NOT NULL,
        metadata       jsonb NOT NULL,
        occurred_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (stream_id, version)
      )`);
    await runner.query(`
      CREATE FUNCTION order_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'order_events is append-only'; END $$`);
    await runner.query(`
      CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
      FOR EACH ROW EXECUTE FUNCTION order_events_append_only()`);
    await runner.query(`
      CREATE TABLE orders_view (
        order_id     uuid PRIMARY KEY,
        user_id      uuid NOT NULL,
        status       text NOT NULL,
        items        jsonb NOT NULL,
        total_cents  bigint NOT NULL,
        currency     char(3) NOT NULL,
        version      integer NOT NULL,
        created_at   timestamptz NOT NULL,
        updated_at   timestamptz NOT NULL
      )`);
    await runner.query(
      `CREATE INDEX orders_view_by_user ON orders_view (user_id, created_at DESC, order_id DESC)`,
    );
    await runner.query(`
      CREATE TABLE idempotency_keys (
        user_id       uuid NOT NULL,
        key           text NOT NULL,
        request_hash  text NOT NULL,
        order_id      uuid NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )`);
    await runner.query(`
      CREATE TABLE order_deadlines (
        order_id  uuid NOT NULL,
        kind      text NOT NULL CHECK (kind IN ('reservation', 'payment')),
        due_at    timestamptz NOT NULL,
        PRIMARY KEY (order_id, kind)
      )`);
    await runner.query(`CREATE INDEX order_deadlines_due ON order_deadlines (due_at)`);
    await runner.query(`
      CREATE TABLE catalog_products (
        sku          text PRIMARY KEY,
        name         text NOT NULL,
        price_cents  integer NOT NULL,
        currency     char(3) NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'catalog_products',
      'order_deadlines',
      'idempotency_keys',
      'orders_view',
      'order_events',
    ]) {
      await runner.query(`DROP TABLE ${table}`);
    }
    await runner.query(`DROP FUNCTION order_events_append_only`);
  }
}
