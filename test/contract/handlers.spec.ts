import 'reflect-metadata';
import { EVENT_FLOWS, EVENT_TYPES, type ServiceName } from '@app/events';
import { EVENT_HANDLER_METADATA, type EventHandlerMetadata } from '@app/messaging';
import { loadServiceConfig, type ServiceConfig } from '@app/platform';
import { describe, expect, it } from '@jest/globals';
import { type DynamicModule } from '@nestjs/common';
import { EmailModule } from '../../apps/email/src/email.module.js';
import { InventoryModule } from '../../apps/inventory/src/inventory.module.js';
import { OrdersModule } from '../../apps/orders/src/orders.module.js';
import { UsersModule } from '../../apps/users/src/users.module.js';

const modules: Record<ServiceName, (config: ServiceConfig) => DynamicModule> = {
  users: (c) => UsersModule.forRoot(c),
  orders: (c) => OrdersModule.forRoot(c),
  inventory: (c) => InventoryModule.forRoot(c),
  email: (c) => EmailModule.forRoot(c),
};

/** The event types a service's `@EventHandler` methods consume. */
function consumedBy(service: ServiceName): string[] {
  const module = modules[service](loadServiceConfig(service, {}));
  const classes = [...(module.providers ?? []), ...(module.controllers ?? [])].filter(
    (p): p is new () => object => typeof p === 'function',
  );
  const types = new Set<string>();
  for (const cls of classes) {
    const prototype = cls.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = prototype[name];
      if (typeof method !== 'function') continue;
      const metadata = Reflect.getMetadata(EVENT_HANDLER_METADATA, method) as
        EventHandlerMetadata | undefined;
      if (metadata) types.add(metadata.type);
    }
  }
  return [...types].sort();
}

describe('each service consumes exactly what the AsyncAPI document says', () => {
  it.each(['users', 'orders', 'inventory', 'email'] as const)('%s', (service) => {
    const declared = EVENT_TYPES.filter((type) =>
      EVENT_FLOWS[type].consumers.includes(service),
    ).sort();
    expect(consumedBy(service)).toEqual(declared);
  });
});
