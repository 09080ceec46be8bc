import type pg from 'pg';
import { type DataSource, type EntityManager, type QueryRunner } from 'typeorm';

/**
 * Fewer round trips to PostgreSQL, with pg's pipeline mode (`pipeline: true` on the pool's
 * clients, set by `dataSourceOptions`): a pipelining client sends a query without waiting
 * for the answer to the one before, and PostgreSQL answers them in order. Statements that do
 * not depend on each other's results can then share one round trip.
 *
 * Statements sent together also leave in one socket write: each write is a system call, and
 * on the benchmark machine socket writes were the largest part of the services' CPU time.
 *
 * Measured in docs/benchmarks.md: round trips, not SQL, were where the services' time went.
 */

/** A statement for `pipelined`. */
export interface Statement {
  sql: string;
  params?: unknown[];
}

/** The pg client of a connected query runner, when it pipelines. */
function pipeliningClient(runner: QueryRunner | undefined): pg.ClientBase | undefined {
  const client = (runner as { databaseConnection?: pg.ClientBase & { pipeline?: boolean } })
    ?.databaseConnection;
  return client?.pipeline ? client : undefined;
}

/**
 * Holds the client's socket writes until the event loop's check phase (right after it has
 * polled for I/O), so every query sent meanwhile goes out in one write.
 */
function coalesceWrites(client: pg.ClientBase): void {
  const stream = (client as { connection?: { stream?: { cork?(): void; uncork?(): void } } })
    .connection?.stream;
  if (!stream?.cork || !stream.uncork) return;
  stream.cork();
  setImmediate(() => stream.uncork!());
}

/**
 * Runs statements in order on `manager`'s connection and returns each one's rows. On a
 * pipelining connection they are all sent at once: one round trip. The first failure
 * rejects; inside a transaction the statements after it fail with it and nothing commits.
 * Without pipelining (or outside a query runner) they run one after the other.
 */
export async function pipelined<Row = Record<string, unknown>>(
  manager: EntityManager,
  statements: Statement[],
): Promise<Row[][]> {
  const client = pipeliningClient(manager.queryRunner);
  if (!client) {
    const rows: Row[][] = [];
    for (const { sql, params } of statements) rows.push(await manager.query<Row[]>(sql, params));
    return rows;
  }
  // All sent before any answer is read; settle every one so no rejection goes unobserved.
  coalesceWrites(client);
  const sent = statements.map(({ sql, params }) => client.query(sql, params));
  await settle(sent);
  return Promise.all(sent).then((results) => results.map((result) => result.rows as Row[]));
}

/**
 * Issues the statements `issue` starts (through `manager`, in one transaction) at once, so
 * they share a round trip and a socket write on a pipelining connection, and awaits them
 * all. Rethrows the failure of the first one in the list that failed: none is still running
 * when the transaction rolls back, and none fails unobserved.
 */
export async function together(
  manager: EntityManager,
  issue: () => Promise<unknown>[],
): Promise<void> {
  const client = pipeliningClient(manager.queryRunner);
  if (client) coalesceWrites(client);
  await settle(issue());
}

async function settle(writes: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** What TypeORM's query runner keeps of an open transaction (set by `startTransaction`). */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/**
 * `dataSource.transaction(work)`, with BEGIN pipelined ahead of the work's first statement:
 * the first statement costs no round trip of its own for the BEGIN. Commit, rollback, nested
 * transactions (savepoints) and commit subscribers work as with TypeORM's own; TypeORM's
 * before/after-start events are not raised. Without pipelining it is TypeORM's transaction.
 */
export async function transaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    const client = pipeliningClient(runner);
    let begun: Promise<unknown> = Promise.resolve();
    if (client) {
      // Sent now, answered after the work's first statement is on its way. BEGIN fails only
      // with its connection, and then so does everything sent behind it.
      coalesceWrites(client);
      begun = client.query('BEGIN');
      begun.catch(() => undefined); // awaited before the commit
      const state = runner as unknown as TransactionState;
      state.isTransactionActive = true;
      state.transactionDepth = 1;
    } else {
      await runner.startTransaction();
    }
    try {
      const result = await work(runner.manager);
      await begun;
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}
