import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The recipient directory (from `user.registered`) and the sent-mail log. */
export class CreateEmail1764300000000 implements MigrationInterface {
  name = 'CreateEmail1764300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE recipients (
        user_id     uuid PRIMARY KEY,
        email       text NOT NULL,
        name        text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE sent_emails (
        event_id    text NOT NULL,
        template    text NOT NULL,
        recipient   text NOT NULL,
        subject     text NOT NULL,
        message_id  text NOT NULL,
        status      text NOT NULL CHECK (status IN ('sending', 'sent')),
        attempts    integer NOT NULL DEFAULT 1,
        created_at  timestamptz NOT NULL DEFAULT now(),
        sent_at     timestamptz,
        PRIMARY KEY (event_id, template)
      )`);
    await runner.query(
      `CREATE INDEX sent_emails_recipient ON sent_emails (lower(recipient), created_at DESC)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE sent_emails`);
    await runner.query(`DROP TABLE recipients`);
  }
}
