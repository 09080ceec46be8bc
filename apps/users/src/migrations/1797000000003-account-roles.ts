import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Each account's role (`customer` unless granted `admin`), and the audit of every grant and
 * revocation: who (the operator as the command names them), what, when.
 */
export class AccountRoles1797000000003 implements MigrationInterface {
  name = 'AccountRoles1797000000003';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE accounts ADD COLUMN role text NOT NULL DEFAULT 'customer'
        CHECK (role IN ('customer', 'admin'))`);
    await runner.query(`
      CREATE TABLE role_changes (
        id          bigserial PRIMARY KEY,
        account_id  uuid NOT NULL REFERENCES accounts (id),
        role        text NOT NULL,
        action      text NOT NULL CHECK (action IN ('grant', 'revoke')),
        operator    text NOT NULL,
        changed_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE role_changes`);
    await runner.query(`ALTER TABLE accounts DROP COLUMN role`);
  }
}
