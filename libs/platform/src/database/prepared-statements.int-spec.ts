import { createTestDatabase, type TestDatabase } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './database.js';
import { transaction } from './pipelining.js';
import { PreparingClient } from './prepared-statements.js';

describe('prepared statements against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase('prepared');
    const options = dataSourceOptions(database.url, []);
    // One connection, so every statement below meets the same session.
    dataSource = await new DataSource({
      ...options,
      extra: { ...(options.extra as Record<string, unknown>), max: 1 },
    }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  const prepared = () =>
    dataSource.query<{ statement: string; executions: number }[]>(
      `SELECT statement, (generic_plans + custom_plans)::int AS executions
         FROM pg_prepared_statements WHERE NOT from_sql ORDER BY statement`,
    );

  it('prepares a parameterized statement once per connection and runs it by name after', async () => {
    for (let i = 0; i < 3; i += 1) {
      const [row] = await dataSource.query<{ n: number }[]>('SELECT $1::int + 1 AS n', [i]);
      expect(row!.n).toBe(i + 1);
    }
    // Inside a pipelined transaction too.
    await transaction(dataSource, (manager) => manager.query('SELECT $1::int + 1 AS n', [9]));
    expect(await prepared()).toEqual([{ statement: 'SELECT $1::int + 1 AS n', executions: 4 }]);
  });

  it('leaves statements without parameters unprepared', async () => {
    await dataSource.query('SELECT 41 + 1 AS n');
    expect((await prepared()).map((p) => p.statement)).not.toContain('SELECT 41 + 1 AS n');
  });

  it('survives an error that arrives after its holder let go of it (no crash)', async () => {
    const client = new PreparingClient(database.url);
    await client.connect();
    // A terminated backend's second error, after pg-pool or TypeORM removed its listener.
    expect(() => client.emit('error', new Error('terminating connection'))).not.toThrow();
    await client.end().catch(() => undefined);
  });
});
