import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource, type MigrationInterface } from 'typeorm';
import { type PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { redact } from '../config/service-config.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { PreparingClient } from './prepared-statements.js';

type MigrationClass = new () => MigrationInterface;

/** Advisory lock key held while migrations run, so replicas can start at once. */
export const MIGRATIONS_LOCK_KEY = 7_312_004_101;

/** TypeORM options of a service database: migrations only, never `synchronize`. */
export function dataSourceOptions(
  url: string,
  migrations: MigrationClass[],
  /** What `pg_stat_activity` shows for its connections: the service's name. */
  applicationName = 'commerce',
): PostgresDataSourceOptions & { url: string } {
  return {
    type: 'postgres',
    url,
    migrations,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: {
      max: 20,
      // Statements sent without waiting for the previous answer (see pipelining.ts), and
      // parameterized ones prepared once per connection (see prepared-statements.ts).
      pipeline: true,
      Client: PreparingClient,
      application_name: applicationName,
    },
  };
}

/** Creates the database of `url` if it is missing (development only). */
export async function ensureDatabaseExists(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    // Replicas starting at once serialize here; concurrent CREATE DATABASE would collide.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`create-database:${name}`]);
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      new Logger('Database').log(`Created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

/** Runs pending migrations while holding a PostgreSQL advisory lock. */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length)
      new Logger('Database').log(`Applied migrations: ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
  }
}

/**
 * A service could not open its database: connecting, or migrating it. `transient` when
 * PostgreSQL was unreachable (worth retrying); otherwise the configuration or a migration is
 * wrong and retrying cannot help.
 */
export class DatabaseOpenError extends Error {
  override readonly name = 'DatabaseOpenError';
  readonly transient: boolean;

  constructor(url: string, stage: 'connect' | 'migrate', cause: unknown) {
    const transient = isDatabaseUnavailable(cause);
    const message = (cause as { message?: unknown } | undefined)?.message;
    const reason = typeof message === 'string' ? message : String(cause);
    const what =
      stage === 'migrate' && !transient
        ? `Migrating the database ${redact(url)} failed: ${reason}. Fix the failing migration and start again: each migration runs in its own transaction, so those before it stay applied.`
        : `Cannot open the database ${redact(url)}: ${reason}. ` +
          (transient
            ? 'Check that PostgreSQL runs and that the host and port of DATABASE_URL reach it.'
            : 'Check the user, password and database name of DATABASE_URL (in production the database must exist).');
    super(what);
    this.transient = transient;
  }
}

/**
 * Opens a service database: creates it in development, then migrates under the lock. Fails
 * with a `DatabaseOpenError` that names the database and what to check.
 */
export async function openDatabase(
  options: PostgresDataSourceOptions & { url: string },
  { createIfMissing }: { createIfMissing: boolean },
): Promise<DataSource> {
  let dataSource: DataSource;
  try {
    if (createIfMissing) await ensureDatabaseExists(options.url);
    dataSource = await new DataSource(options).initialize();
  } catch (error) {
    throw new DatabaseOpenError(options.url, 'connect', error);
  }
  try {
    await runMigrationsLocked(dataSource);
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw new DatabaseOpenError(options.url, 'migrate', error);
  }
}
