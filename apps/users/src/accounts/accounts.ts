import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

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
  ): Promise<Pick<StoredAccount, 'id' | 'email' | 'passwordHash'> | undefined> {
    const [row] = await manager.query<{ id: string; email: string; password_hash: string }[]>(
      `SELECT id, email, password_hash FROM accounts WHERE email_normalized = $1`,
      [email.toLowerCase()],
    );
    return row && { id: row.id, email: row.email, passwordHash: row.password_hash };
  }
}
