import {
  databaseCheck,
  databaseModule,
  HealthController,
  MetricsController,
  READINESS_CHECKS,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource, type MigrationInterface } from 'typeorm';
import { MESSAGING_MIGRATIONS, MessagingModule, MessagingService } from '@app/messaging';
import { brokerCheck, messagingOptionsFrom } from './messaging-config.js';

export interface ServiceModuleOptions extends Pick<
  ModuleMetadata,
  'imports' | 'controllers' | 'providers'
> {
  /** The service's own migrations, run after the messaging tables. */
  migrations: (new () => MigrationInterface)[];
  /**
   * `database`: ready while the database answers (the gateway keeps taking orders, and users
   * keeps registering, while the broker is away). `database-and-broker`: consumers.
   */
  readiness: 'database' | 'database-and-broker';
  /** Serve `/metrics` on the service's port (false for the gateway, which uses `OPS_PORT`). */
  metricsOnMainPort: boolean;
}

/**
 * What every service module shares: its own database migrated at boot, the messaging module,
 * health (terminus) with its readiness checks, metrics, and the validated configuration.
 */
export function serviceModule(
  module: Type<unknown>,
  config: ServiceConfig,
  options: ServiceModuleOptions,
): DynamicModule {
  return {
    module,
    imports: [
      TerminusModule.forRoot({ logger: false }),
      databaseModule(config, [...MESSAGING_MIGRATIONS, ...options.migrations]),
      MessagingModule.forRoot({ ...messagingOptionsFrom(config), isGlobal: true }),
      ...(options.imports ?? []),
    ],
    controllers: [
      HealthController,
      ...(options.metricsOnMainPort ? [MetricsController] : []),
      ...(options.controllers ?? []),
    ],
    providers: [
      { provide: SERVICE_CONFIG, useValue: config },
      {
        provide: READINESS_CHECKS,
        useFactory: (dataSource: DataSource, messaging: MessagingService) =>
          options.readiness === 'database'
            ? [databaseCheck(dataSource)]
            : [databaseCheck(dataSource), brokerCheck(messaging)],
        inject: [DataSource, MessagingService],
      },
      ...(options.providers ?? []),
    ],
  };
}
