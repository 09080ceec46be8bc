import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

/** What an account may do: `admin` reaches the gateway's `/admin` endpoints. */
export type Role = 'customer' | 'admin';

/** An account as stored; the email is matched case-insensitively. */
export interface StoredAccount {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
}

/** The accounts (`accounts`, its only owner). Every method takes the caller's manager. */
@Injectable()
export class Accounts {
  /** Inserts an account; a taken email fails with PostgreSQL's unique violation (23505). */
  async insert(manager: EntityManager, account: StoredAccount): Promise<void> {
    await manager.query(
      `INSERT INTO accounts (id, email, email_normalized, name, password_hash) VALUES ($1, $2, $3, $4, $5)`,
      [account.id, account.email, account.email.toLowerCase(), account.name, account.passwordHash],
    );
  }

  /** The account of an email, in any case, or undefined. */
  async byEmail(
    manager: EntityManager,
    email: string,
  ): Promise<(Pick<StoredAccount, 'id' | 'email' | 'passwordHash'> & { role: Role }) | undefined> {
    const [row] = await manager.query<
      { id: string; email: string; password_hash: string; role: Role }[]
    >(`SELECT id, email, password_hash, role FROM accounts WHERE email_normalized = $1`, [
      email.toLowerCase(),
    ]);
    return row && { id: row.id, email: row.email, passwordHash: row.password_hash, role: row.role };
  }

  /**
   * Gives the account of `email` the role `role` and records who did it (`role_changes`);
   * returns the account's id, or undefined when no account has that email. Granting a role
   * the account has records nothing.
   */
  async setRole(
    manager: EntityManager,
    email: string,
    role: Role,
    operator: string,
  ): Promise<{ id: string; changed: boolean } | undefined> {
    const [account] = await manager.query<{ id: string; role: Role }[]>(
      `SELECT id, role FROM accounts WHERE email_normalized = $1 FOR UPDATE`,
      [email.toLowerCase()],
    );
    if (!account) return undefined;
    if (account.role === role) return { id: account.id, changed: false };
    await manager.query(`UPDATE accounts SET role = $2 WHERE id = $1`, [account.id, role]);
    await manager.query(
      `INSERT INTO role_changes (account_id, role, action, operator) VALUES ($1, 'admin', $2, $3)`,
      [account.id, role === 'admin' ? 'grant' : 'revoke', operator],
    );
    return { id: account.id, changed: true };
  }

  /** The audit of role changes, oldest first. */
  async roleChanges(
    manager: EntityManager,
  ): Promise<{ email: string; action: string; operator: string; changedAt: Date }[]> {
    const rows = await manager.query<
      { email: string; action: string; operator: string; changed_at: Date }[]
    >(
      `SELECT a.email, c.action, c.operator, c.changed_at FROM role_changes c
         JOIN accounts a ON a.id = c.account_id ORDER BY c.id`,
    );
    return rows.map((row) => ({ ...row, changedAt: row.changed_at }));
  }
}
