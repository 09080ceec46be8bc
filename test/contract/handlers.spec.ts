import 'reflect-metadata';
import { EVENT_FLOWS, EVENT_TYPES, type ServiceName } from '@app/events';
import {
  EVENT_HANDLER_METADATA,
  type EventHandlerMetadata,
  type InboxConsumerRenames,
} from '@app/messaging';
import { loadServiceConfig, type ServiceConfig } from '@app/platform';
import { describe, expect, it } from '@jest/globals';
import { type DynamicModule } from '@nestjs/common';
import { EmailModule } from '../../apps/email/src/email.module.js';
import { InventoryModule } from '../../apps/inventory/src/inventory.module.js';
import { OrdersModule } from '../../apps/orders/src/orders.module.js';
import { UsersModule } from '../../apps/users/src/users.module.js';
import { EMAIL_FORMER_HANDLER_KEYS } from '../../apps/email/src/migrations/1796000000003-handler-ids.js';
import { INVENTORY_FORMER_HANDLER_KEYS } from '../../apps/inventory/src/migrations/1796000000002-handler-ids.js';
import { ORDERS_FORMER_HANDLER_KEYS } from '../../apps/orders/src/migrations/1796000000001-handler-ids.js';

const modules: Record<ServiceName, (config: ServiceConfig) => DynamicModule> = {
  users: (c) => UsersModule.forRoot(c),
  orders: (c) => OrdersModule.forRoot(c),
  inventory: (c) => InventoryModule.forRoot(c),
  email: (c) => EmailModule.forRoot(c),
};

interface DeclaredHandler {
  /** `<Class>.<method>` */
  method: string;
  type: string;
  /** The inbox key, `<service>:<id>`. */
  key: string;
}

/** The `@EventHandler` methods of a service's providers and controllers. */
function handlersOf(service: ServiceName): DeclaredHandler[] {
  const module = modules[service](loadServiceConfig(service, {}));
  const classes = [...(module.providers ?? []), ...(module.controllers ?? [])].filter(
    (p): p is new () => object => typeof p === 'function',
  );
  const handlers: DeclaredHandler[] = [];
  for (const cls of classes) {
    const prototype = cls.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = prototype[name];
      if (typeof method !== 'function') continue;
      const metadata = Reflect.getMetadata(EVENT_HANDLER_METADATA, method) as
        EventHandlerMetadata | undefined;
      if (metadata) {
        handlers.push({
          method: `${cls.name}.${name}`,
          type: metadata.type,
          key: `${service}:${metadata.id}`,
        });
      }
    }
  }
  return handlers;
}

/** The event types a service's `@EventHandler` methods consume. */
function consumedBy(service: ServiceName): string[] {
  return [...new Set(handlersOf(service).map((h) => h.type))].sort();
}

describe('each service consumes exactly what the AsyncAPI document says', () => {
  it.each(['users', 'orders', 'inventory', 'email'] as const)('%s', (service) => {
    const declared = EVENT_TYPES.filter((type) =>
      EVENT_FLOWS[type].consumers.includes(service),
    ).sort();
    expect(consumedBy(service)).toEqual(declared);
  });
});

/**
 * The inbox keys of the release before handler ids (c9d8aed), as its `HandlerDiscovery` built
 * them (`<service>:<Class>.<method>`): every one must be carried over, or the events it had
 * handled would be handled again after the upgrade.
 */
const KEYS_BEFORE_IDS: Record<ServiceName, string[]> = {
  users: [],
  orders: [
    'orders:CatalogProjection.added',
    'orders:OrderSagaHandlers.reserved',
    'orders:OrderSagaHandlers.reservationFailed',
  ],
  inventory: [
    'inventory:ReserveStockHandler.reserve',
    'inventory:SellStockHandler.sell',
    'inventory:ReleaseStockHandler.release',
    'inventory:ReleaseStockHandler.releaseRejected',
  ],
  email: [
    'email:NotificationHandlers.welcome',
    'email:NotificationHandlers.orderConfirmed',
    'email:NotificationHandlers.paymentReceived',
    'email:NotificationHandlers.orderRejected',
    'email:NotificationHandlers.orderCancelled',
    'email:RecipientDirectory.remember',
  ],
};

const FORMER_KEYS: Record<ServiceName, InboxConsumerRenames> = {
  users: {},
  orders: ORDERS_FORMER_HANDLER_KEYS,
  inventory: INVENTORY_FORMER_HANDLER_KEYS,
  email: EMAIL_FORMER_HANDLER_KEYS,
};

describe('handler ids: each inbox key of the release before leads to the same handler now', () => {
  it.each(['users', 'orders', 'inventory', 'email'] as const)('%s', (service) => {
    const handlers = handlersOf(service);
    const renames = FORMER_KEYS[service];
    expect(Object.keys(renames).sort()).toEqual([...KEYS_BEFORE_IDS[service]].sort());
    for (const [former, current] of Object.entries(renames)) {
      // The former key named the method; while it still exists it must be the one with the id.
      const method = former.slice(service.length + 1);
      const same = handlers.find((h) => h.method === method);
      if (same) expect([former, same.key]).toEqual([former, current]);
      expect(handlers.map((h) => h.key)).toContain(current);
    }
  });
});
