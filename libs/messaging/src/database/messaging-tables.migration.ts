import { MessagingInboxRenames1796000000000 } from './inbox-renames.migration.js';
import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The outbox and inbox tables of libs/messaging. Every service with a database lists this
 * migration beside its own (see `MESSAGING_MIGRATIONS`).
 */
export class MessagingTables1764000000000 implements MigrationInterface {
  name = 'MessagingTables1764000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE messaging_outbox (
        position      bigserial PRIMARY KEY,
        event_id      text NOT NULL UNIQUE,
        type          text NOT NULL,
        exchange      text NOT NULL,
        mandatory     boolean NOT NULL,
        payload       text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        available_at  timestamptz NOT NULL DEFAULT now(),
        attempts      integer NOT NULL DEFAULT 0,
        last_error    text,
        sent_at       timestamptz
      )`);
    await runner.query(
      `CREATE INDEX messaging_outbox_pending ON messaging_outbox (available_at, position) WHERE sent_at IS NULL`,
    );
    await runner.query(
      `CREATE INDEX messaging_outbox_sent ON messaging_outbox (sent_at) WHERE sent_at IS NOT NULL`,
    );
    await runner.query(`
      CREATE TABLE messaging_inbox (
        consumer      text NOT NULL,
        event_id      text NOT NULL,
        processed_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    await runner.query(
      `CREATE INDEX messaging_inbox_processed_at ON messaging_inbox (processed_at)`,
    );
    await runner.query(`
      CREATE TABLE messaging_crash_suspects (
        queue       text NOT NULL,
        message_id  text NOT NULL,
        started_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (queue, message_id)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE messaging_crash_suspects`);
    await runner.query(`DROP TABLE messaging_inbox`);
    await runner.query(`DROP TABLE messaging_outbox`);
  }
}

/**
 * Autovacuum by dead-row count for the outbox, whatever its size. Every sent row leaves a dead
 * tuple in the table and in the relay's `messaging_outbox_pending` index, and the retention
 * delete leaves more. With PostgreSQL's default (20% of the table), 24 hours of sent rows can
 * hold millions of dead entries that each relay round scans past; measured: 2.8 -> 16.5 ms p50
 * per round over three unvacuumed rounds of 20,000 rows (docs/benchmarks.md).
 */
export class MessagingOutboxAutovacuum1795700000000 implements MigrationInterface {
  name = 'MessagingOutboxAutovacuum1795700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE messaging_outbox SET (${OUTBOX_AUTOVACUUM.join(', ')})`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const names = OUTBOX_AUTOVACUUM.map((setting) => setting.split(' ')[0]);
    await runner.query(`ALTER TABLE messaging_outbox RESET (${names.join(', ')})`);
  }
}

/** The outbox's storage parameters: vacuum and analyze every 10,000 changed rows. */
export const OUTBOX_AUTOVACUUM = [
  'autovacuum_vacuum_scale_factor = 0',
  'autovacuum_vacuum_threshold = 10000',
  'autovacuum_analyze_scale_factor = 0',
  'autovacuum_analyze_threshold = 10000',
];

/** The migrations a service adds to its DataSource to use the outbox and inbox. */
export const MESSAGING_MIGRATIONS = [
  MessagingTables1764000000000,
  MessagingOutboxAutovacuum1795700000000,
  MessagingInboxRenames1796000000000,
];
