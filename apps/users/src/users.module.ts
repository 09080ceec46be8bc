import { serviceModule } from '@app/service';
import { RateLimiter, RateLimits1764500000000, type ServiceConfig } from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { Accounts } from './accounts/accounts.js';
import { AuthenticateController } from './authenticate/authenticate.controller.js';
import { AuthenticateLimitGuard } from './authenticate/authenticate-limit.guard.js';
import { AuthenticateService } from './authenticate/authenticate.service.js';
import { USERS_MIGRATIONS } from './migrations/index.js';
import { RegisterAccountController } from './register/register-account.controller.js';
import { RegisterAccountService } from './register/register-account.service.js';

/** The users service: accounts, password checks, tokens; publishes `user.registered`. */
@Module({})
export class UsersModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return serviceModule(UsersModule, config, {
      migrations: [...USERS_MIGRATIONS, RateLimits1764500000000],
      // Registration works while the broker is away (the outbox holds the events).
      readiness: 'database',
      metricsOnMainPort: true,
      controllers: [RegisterAccountController, AuthenticateController],
      providers: [
        Accounts,
        RegisterAccountService,
        AuthenticateService,
        RateLimiter,
        AuthenticateLimitGuard,
      ],
    });
  }
}
