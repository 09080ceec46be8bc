import { adminQuery, freePort, queryOn } from '@app/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { DatabaseOpenError, dataSourceOptions, openDatabase } from './database.js';

class SlowTable1000000000001 implements MigrationInterface {
  name = 'SlowTable1000000000001';
  async up(runner: QueryRunner): Promise<void> {
    // Slow enough that two unlocked replicas would both run it and one would fail.
    await runner.query(`SELECT pg_sleep(0.5)`);
    await runner.query(`CREATE TABLE slow_table (id int)`);
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE slow_table`);
  }
}

class BrokenMigration1000000000002 implements MigrationInterface {
  name = 'BrokenMigration1000000000002';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE no_such_table ADD COLUMN x int`);
  }
  async down(): Promise<void> {}
}

describe('openDatabase against PostgreSQL', () => {
  const name = `replicas_${randomBytes(4).toString('hex')}`;
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;

  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  it('lets two replicas create and migrate a missing database at once', async () => {
    const options = dataSourceOptions(url, [SlowTable1000000000001]);
    const replicas = await Promise.all([
      openDatabase(options, { createIfMissing: true }),
      openDatabase(options, { createIfMissing: true }),
    ]);
    const [row] = await replicas[0].query<{ n: string }[]>(`SELECT count(*) AS n FROM migrations`);
    expect(Number(row!.n)).toBe(1);
    await Promise.all(replicas.map((replica) => replica.destroy()));
  });

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('openDatabase succeeded');
      },
      (error: unknown) => error as DatabaseOpenError,
    );

  it('fails for good, naming what to check, when the role does not exist', async () => {
    const error = await failure(
      openDatabase(dataSourceOptions(`postgres://nobody:secret@127.0.0.1:5432/${name}`, []), {
        createIfMissing: false,
      }),
    );
    expect(error).toBeInstanceOf(DatabaseOpenError);
    expect(error.transient).toBe(false);
    expect(error.message).toBe(
      `Cannot open the database postgres://nobody:***@127.0.0.1:5432/${name}: role "nobody" does not exist. ` +
        'Check the user, password and database name of DATABASE_URL (in production the database must exist).',
    );
  });

  it('fails transiently when nothing listens at the address', async () => {
    const port = await freePort();
    const error = await failure(
      openDatabase(dataSourceOptions(`postgres://postgres@127.0.0.1:${port}/${name}`, []), {
        createIfMissing: true,
      }),
    );
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(
      /^Cannot open the database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+: connect ECONNREFUSED .*Check that PostgreSQL runs/,
    );
  });

  it('fails for good on a broken migration, keeping those before it', async () => {
    const broken = `${name}_broken`;
    const brokenUrl = `postgres://postgres@127.0.0.1:5432/${broken}`;
    try {
      const error = await failure(
        openDatabase(
          dataSourceOptions(brokenUrl, [SlowTable1000000000001, BrokenMigration1000000000002]),
          { createIfMissing: true },
        ),
      );
      expect(error.transient).toBe(false);
      expect(error.message).toMatch(
        /^Migrating the database .*: relation "no_such_table" does not exist\. Fix the failing migration/,
      );
      const applied = await queryOn<{ name: string }>(brokenUrl, `SELECT name FROM migrations`);
      expect(applied.map((row) => row.name)).toEqual(['SlowTable1000000000001']);
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${broken}" WITH (FORCE)`);
    }
  });
});
