import { ACTOR_HEADER, IDEMPOTENCY_KEY_HEADER } from '@app/contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { InternalClient } from '../http/internal-client.js';

/**
 * inventory's internal catalog API (`INVENTORY_URL`, `INVENTORY_TIMEOUT`), which the admin
 * endpoints forward to; `actor` names the admin in inventory's stock records.
 */
@Injectable()
export class InventoryClient {
  private readonly client: InternalClient;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    this.client = new InternalClient(
      {
        name: 'inventory',
        baseUrl: config.inventoryUrl,
        timeoutMs: config.inventoryTimeoutMs,
        passNotFound: true,
      },
      config,
    );
  }

  call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    actor: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<T> {
    return this.client.call<T>(method, `/internal/products${path}`, body, {
      [ACTOR_HEADER]: actor,
      ...(idempotencyKey !== undefined ? { [IDEMPOTENCY_KEY_HEADER]: idempotencyKey } : {}),
    });
  }
}
