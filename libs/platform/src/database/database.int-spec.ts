import { adminQuery } from '@app/testing';
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { dataSourceOptions, openDatabase } from './database.js';

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
});
