import { type EventType } from './catalog.js';

/** The services of the system; each producer owns the topic exchange `<service>.events`. */
export const SERVICES = ['users', 'orders', 'inventory', 'email'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface EventFlow {
  /** The only service that publishes this type, on its exchange `<producer>.events`. */
  producer: ServiceName;
  /** The services with a queue `<service>.<type>` for it. Empty: published without `mandatory`. */
  consumers: readonly ServiceName[];
}

/**
 * Who publishes and who consumes each event type. `asyncapi.yaml` is generated from this table
 * (`npm run events:schemas`) and a test keeps the two equal, so the document, the topology and
 * the publisher's `mandatory` flag all read one source.
 */
export const EVENT_FLOWS: { readonly [K in EventType]: EventFlow } = {
  'user.registered': { producer: 'users', consumers: ['email'] },
  'product.added': { producer: 'inventory', consumers: ['orders'] },
  'order.placed': { producer: 'orders', consumers: ['inventory'] },
  'order.confirmed': { producer: 'orders', consumers: ['email'] },
  'order.rejected': { producer: 'orders', consumers: ['inventory', 'email'] },
  'order.cancelled': { producer: 'orders', consumers: ['inventory', 'email'] },
  'payment.processed': { producer: 'orders', consumers: ['inventory', 'email'] },
  'inventory.reserved': { producer: 'inventory', consumers: ['orders'] },
  'inventory.reservation-failed': { producer: 'inventory', consumers: ['orders'] },
  'inventory.released': { producer: 'inventory', consumers: [] },
  'product.updated': { producer: 'inventory', consumers: ['orders'] },
  'product.discontinued': { producer: 'inventory', consumers: ['orders'] },
  'stock.adjusted': { producer: 'inventory', consumers: [] },
};

/** The topic exchange an event type is published on. */
export function exchangeOf(type: EventType): string {
  return `${EVENT_FLOWS[type].producer}.events`;
}

/** The services that consume an event type. */
export function consumersOf(type: EventType): readonly ServiceName[] {
  return EVENT_FLOWS[type].consumers;
}

/** True when at least one service consumes the type, so a publish must be routable. */
export function hasConsumers(type: EventType): boolean {
  return EVENT_FLOWS[type].consumers.length > 0;
}
