import type pg from 'pg';
import {
  type DataSource,
  type EntityManager,
  type QueryRunner,
  QueryRunnerAlreadyReleasedError,
} from 'typeorm';

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

/** The pg client under a connected query runner. */
function clientOf(runner: QueryRunner | undefined): PgClient | undefined {
  return (runner as { databaseConnection?: PgClient } | undefined)?.databaseConnection;
}

/** What this module reads of a pg client: its pipeline mode and its backend's process id. */
type PgClient = pg.ClientBase & { pipeline?: boolean; processID?: number | null };

/** The pg client of a connected query runner, when it pipelines. */
function pipeliningClient(runner: QueryRunner | undefined): PgClient | undefined {
  const client = clientOf(runner);
  return client?.pipeline ? client : undefined;
}

/**
 * A statement was issued through a transaction that is over: committed, rolled back, or ended
 * for good by its timeout. It was not sent.
 */
export class TransactionEndedError extends Error {
  override readonly name = 'TransactionEndedError';
  readonly code = 'DATABASE.TRANSACTION_ENDED';
}

/** Why each transaction of `transaction()` ended, by its query runner, once it has. */
const endings = new WeakMap<QueryRunner, string>();

/**
 * Throws `TransactionEndedError` when `manager`'s transaction has ended, and TypeORM's
 * `QueryRunnerAlreadyReleasedError` when its connection was lost under it (TypeORM releases
 * the runner of a connection that failed: a terminated backend), which is a database outage
 * (503), not a programming error.
 */
export function assertTransactionOpen(manager: EntityManager): void {
  const runner = manager.queryRunner;
  const ending = runner ? endings.get(runner) : undefined;
  if (ending !== undefined) {
    throw new TransactionEndedError(
      `A statement was issued through a transaction that is over (${ending}); it was not sent. Issue statements only while the transaction's work runs.`,
    );
  }
  if (runner?.isReleased) throw new QueryRunnerAlreadyReleasedError();
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
  assertTransactionOpen(manager);
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
  assertTransactionOpen(manager);
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

/** TypeORM's release of a Postgres query runner with an error: pg-pool then discards the client. */
interface DiscardingRunner {
  releasePostgresConnection(error?: Error): Promise<void>;
}

export interface TransactionOptions {
  /**
   * The work must finish within this long. When it does not, the transaction is over for
   * good: nothing it issues afterwards is sent, nothing commits, and its connection is
   * discarded (its backend terminated), never returned to the pool while a statement may
   * still run on it.
   */
  timeoutMs?: number;
  /** The error a timed-out transaction rejects with. */
  timeoutError?: () => Error;
}

/** A transaction that ran out of time (`TransactionOptions.timeoutMs`). */
export class TransactionTimeoutError extends Error {
  override readonly name = 'TransactionTimeoutError';
  readonly code = 'DATABASE.TRANSACTION_TIMEOUT';
}

/**
 * `dataSource.transaction(work)`, with BEGIN pipelined ahead of the work's first statement:
 * the first statement costs no round trip of its own for the BEGIN. Commit, rollback, nested
 * transactions (savepoints) and commit subscribers work as with TypeORM's own; TypeORM's
 * before/after-start events are not raised. Without pipelining it is TypeORM's transaction.
 *
 * With `timeoutMs`, a transaction whose work runs too long is abandoned rather than rolled
 * back: a ROLLBACK would go out behind the statement still running, and whatever the work
 * issued after it would run in autocommit. Abandoning marks the transaction ended (further
 * statements fail with `TransactionEndedError`), discards the connection (pg ends it after
 * the statements already sent, and never sends COMMIT) and terminates its backend, so that
 * PostgreSQL rolls everything back and frees its locks at once.
 */
export async function transaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const runner = dataSource.createQueryRunner();
  let abandoned = false;
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
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = work(runner.manager);
      const result = options.timeoutMs
        ? await Promise.race([
            running,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                abandoned = true;
                const error =
                  options.timeoutError?.() ??
                  new TransactionTimeoutError(
                    `The transaction did not finish within ${options.timeoutMs} ms; it was abandoned and rolled back.`,
                  );
                abandon(dataSource, runner, error);
                reject(error);
              }, options.timeoutMs);
            }),
          ])
        : await running;
      clearTimeout(timer);
      endings.set(runner, 'committing');
      await begun;
      await runner.commitTransaction();
      endings.set(runner, 'committed');
      return result;
    } catch (error) {
      clearTimeout(timer);
      if (abandoned) throw error;
      endings.set(runner, 'rolled back');
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  } finally {
    if (!abandoned) await runner.release();
  }
}

/**
 * Ends a transaction whose work still runs: marks it ended, discards its connection and
 * terminates its backend through another connection of the pool (best effort: without it,
 * the statement still running ends at its statement_timeout and pg ends the session after it,
 * with no COMMIT sent).
 */
function abandon(dataSource: DataSource, runner: QueryRunner, reason: Error): void {
  endings.set(runner, `abandoned: ${reason.message}`);
  const pid = clientOf(runner)?.processID;
  void (runner as unknown as DiscardingRunner).releasePostgresConnection(reason);
  if (pid) {
    void dataSource.query('SELECT pg_terminate_backend($1)', [pid]).catch(() => undefined);
  }
}
