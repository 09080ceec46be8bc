import { type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type MigrationInterface } from 'typeorm';
import { type ServiceConfig } from '../config/service-config.js';
import { DatabaseOpenError, dataSourceOptions, openDatabase } from './database.js';

/** TypeORM for one service's own database, migrated at boot under an advisory lock. */
export function databaseModule(
  config: ServiceConfig,
  migrations: (new () => MigrationInterface)[],
): DynamicModule {
  const options = dataSourceOptions(config.databaseUrl, migrations, config.service);
  return TypeOrmModule.forRootAsync({
    useFactory: () => ({
      ...options,
      // PostgreSQL unreachable (still starting, say): retried for about 30 s, each attempt
      // logged with its reason. A wrong user, password, database or migration fails at once.
      retryAttempts: 10,
      retryDelay: 3_000,
      verboseRetryLog: true,
      toRetry: (error: unknown) => !(error instanceof DatabaseOpenError) || error.transient,
    }),
    dataSourceFactory: () => openDatabase(options, { createIfMissing: !config.production }),
  });
}
