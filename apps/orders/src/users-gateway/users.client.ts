import { CLIENT_ADDRESS_HEADER, SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { InternalClient } from '../http/internal-client.js';

/**
 * users' internal API (`USERS_URL`, `USERS_TIMEOUT`): registration and sign-in. A registration
 * is one trace across the gateway and users.
 */
@Injectable()
export class UsersClient {
  private readonly client: InternalClient;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.client = new InternalClient(
      {
        name: 'users',
        baseUrl: config.usersUrl,
        timeoutMs: config.usersTimeoutMs,
        passNotFound: false,
      },
      config,
    );
  }

  /**
   * POSTs `body` to users' `path` and returns its JSON answer; `clientAddress` (the caller of
   * the gateway) lets users apply its own per-client limits.
   */
  post<T>(
    path: '/internal/register' | '/internal/authenticate',
    body: unknown,
    clientAddress?: string,
  ): Promise<T> {
    return this.client.call<T>(
      'POST',
      path,
      body,
      clientAddress ? { [CLIENT_ADDRESS_HEADER]: clientAddress } : {},
    );
  }
}
