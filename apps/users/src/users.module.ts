import { MESSAGING_MIGRATIONS, MessagingModule, messagingOptionsFrom } from '@app/messaging';
import {
  databaseCheck,
  databaseModule,
  HealthController,
  MetricsController,
  READINESS_CHECKS,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { AuthenticateController } from './authenticate/authenticate.controller.js';
import { AuthenticateService } from './authenticate/authenticate.service.js';
import { USERS_MIGRATIONS } from './migrations/1764100000000-create-accounts.js';
import { RegisterAccountController } from './register/register-account.controller.js';
import { RegisterAccountService } from './register/register-account.service.js';

/** The users service: accounts, password checks, tokens; publishes `user.registered`. */
@Module({})
export class UsersModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: UsersModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        databaseModule(config, [...MESSAGING_MIGRATIONS, ...USERS_MIGRATIONS]),
        MessagingModule.forRoot({ ...messagingOptionsFrom(config), isGlobal: true }),
      ],
      controllers: [
        HealthController,
        MetricsController,
        RegisterAccountController,
        AuthenticateController,
      ],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        {
          provide: READINESS_CHECKS,
          // Registration works while the broker is away (the outbox holds the events).
          useFactory: (dataSource: DataSource) => [databaseCheck(dataSource)],
          inject: [DataSource],
        },
        RegisterAccountService,
        AuthenticateService,
      ],
    };
  }
}
