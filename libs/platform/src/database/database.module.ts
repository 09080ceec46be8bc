import { type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type MigrationInterface } from 'typeorm';
import { type ServiceConfig } from '../config/service-config.js';
import { dataSourceOptions, openDatabase } from './database.js';

/** TypeORM for one service's own database, migrated at boot under an advisory lock. */
export function databaseModule(
  config: ServiceConfig,
  migrations: (new () => MigrationInterface)[],
): DynamicModule {
  const options = dataSourceOptions(config.databaseUrl, migrations);
  return TypeOrmModule.forRootAsync({
    useFactory: () => options,
    dataSourceFactory: () => openDatabase(options, { createIfMissing: !config.production }),
  });
}
