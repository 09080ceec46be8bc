import { createTestDatabase, type TestDatabase, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DataSource, type QueryRunner } from 'typeorm';
import { dataSourceOptions } from './database.js';

/**
 * What the database layer (pipelining.ts, prepared-statements.ts) relies on in TypeORM and
 * pg beyond their documented API, one named test each: an upgrade that changes one of these
 * fails here, by name, before the behaviour tests beside it fail for reasons harder to read.
 */
describe('the TypeORM and pg internals the database layer relies on', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('library-contract');
    dataSource = await new DataSource(dataSourceOptions(database.url, [])).initialize();
    await dataSource.query(`CREATE TABLE contract_rows (id int PRIMARY KEY)`);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  const connected = async (): Promise<QueryRunner> => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    return runner;
  };
  const clientOf = (runner: QueryRunner) =>
    (runner as unknown as { databaseConnection?: pg.ClientBase }).databaseConnection;

  it('TypeORM: a connected Postgres query runner holds its pg client as databaseConnection', async () => {
    const runner = await connected();
    try {
      expect(clientOf(runner)).toBeInstanceOf(pg.Client);
    } finally {
      await runner.release();
    }
  });

  it('pg: the pool option pipeline: true reaches the client as client.pipeline', async () => {
    const runner = await connected();
    try {
      expect((clientOf(runner) as { pipeline?: unknown }).pipeline).toBe(true);
    } finally {
      await runner.release();
    }
  });

  it("pg: a connected client's socket is connection.stream, which can cork and uncork", async () => {
    const runner = await connected();
    try {
      const stream = (clientOf(runner) as { connection?: { stream?: Record<string, unknown> } })
        .connection?.stream;
      expect(typeof stream?.cork).toBe('function');
      expect(typeof stream?.uncork).toBe('function');
    } finally {
      await runner.release();
    }
  });

  it('pg: Client.prototype.query takes a named statement config with values', async () => {
    expect(typeof pg.Client.prototype.query).toBe('function');
    const runner = await connected();
    try {
      const result = await clientOf(runner)!.query({
        name: 'contract_named',
        text: 'SELECT $1::int AS n',
        values: [7],
      });
      expect(result.rows).toEqual([{ n: 7 }]);
    } finally {
      await runner.release();
    }
  });

  it('TypeORM: commitTransaction commits a BEGIN sent on the client once isTransactionActive and transactionDepth are set', async () => {
    const runner = await connected();
    try {
      await clientOf(runner)!.query('BEGIN');
      const state = runner as unknown as { isTransactionActive: boolean; transactionDepth: number };
      state.isTransactionActive = true;
      state.transactionDepth = 1;
      await runner.query(`INSERT INTO contract_rows (id) VALUES (1)`);
      await runner.commitTransaction();
      expect(runner.isTransactionActive).toBe(false);
      expect(await dataSource.query(`SELECT id FROM contract_rows WHERE id = 1`)).toEqual([
        { id: 1 },
      ]);
    } finally {
      await runner.release();
    }
  });

  it('TypeORM: releasePostgresConnection(error) hands the client back to pg-pool as broken, which discards it', async () => {
    const runner = await connected();
    const client = clientOf(runner)!;
    const [{ pid }] = (await runner.query(`SELECT pg_backend_pid() AS pid`)) as [{ pid: number }];
    await (
      runner as unknown as { releasePostgresConnection(error?: Error): Promise<void> }
    ).releasePostgresConnection(new Error('discarded by the contract test'));
    // pg-pool ends a client released with an error: its backend goes away.
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await waitFor('the discarded backend to end', async () => {
      const [row] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`,
        [pid],
      );
      return row!.n === 0;
    });
  });
});
