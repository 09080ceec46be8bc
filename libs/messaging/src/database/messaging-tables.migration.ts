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

/** The migrations a service adds to its DataSource to use the outbox and inbox. */
export const MESSAGING_MIGRATIONS = [MessagingTables1764000000000];
