import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** Customer accounts; the email is unique case-insensitively. */
export class CreateAccounts1764100000000 implements MigrationInterface {
  name = 'CreateAccounts1764100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE accounts (
        id               uuid PRIMARY KEY,
        email            text NOT NULL,
        email_normalized text NOT NULL UNIQUE,
        name             text NOT NULL,
        password_hash    text NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE accounts`);
  }
}
