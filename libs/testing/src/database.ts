import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database of its own for one test suite, dropped by `dispose`. */
export interface TestDatabase {
  name: string;
  url: string;
  dispose(): Promise<void>;
}

/** Runs one statement on the database of `url` over a connection of its own; returns the rows. */
export async function queryOn<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await runOn(url, sql, params)).rows as T[];
}

/** Runs one statement on the maintenance database. */
export function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return runOn(ADMIN_URL, sql, params);
}

/** The `application_name` of the tests' own connections (fault injection spares them). */
export const TEST_HARNESS_APPLICATION = 'test-harness';

async function runOn(url: string, sql: string, params: unknown[]): Promise<pg.QueryResult> {
  const client = new pg.Client({
    connectionString: url,
    application_name: TEST_HARNESS_APPLICATION,
  });
  // A connection killed under the statement rejects it; without a listener, the client's
  // 'error' event would also crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/**
 * A transaction held open on a connection of the test's own (to hold row locks, or an
 * uncommitted row, while a service waits on them); `end` commits it, or rolls it back.
 */
export interface OpenTransaction {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  end(how?: 'commit' | 'rollback'): Promise<void>;
}

/** Begins a transaction on a new connection to `url`. */
export async function openTransaction(url: string): Promise<OpenTransaction> {
  const client = new pg.Client({
    connectionString: url,
    application_name: TEST_HARNESS_APPLICATION,
  });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  return {
    query: async <T>(sql: string, params: unknown[] = []) =>
      (await client.query(sql, params)).rows as T[],
    end: async (how = 'commit') => {
      try {
        await client.query(how === 'commit' ? 'COMMIT' : 'ROLLBACK');
      } finally {
        await client.end();
      }
    },
  };
}

/** Creates a fresh, empty database. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const base = new URL(ADMIN_URL);
  base.pathname = `/${name}`;
  return {
    name,
    url: base.toString(),
    dispose: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    },
  };
}
