import { type EventData, type EventDefinition } from './event-definition.js';
import { InventoryReleasedV1 } from './inventory/inventory-released.v1.js';
import { InventoryReservationFailedV1 } from './inventory/inventory-reservation-failed.v1.js';
import { InventoryReservedV1 } from './inventory/inventory-reserved.v1.js';
import { ProductAddedV1 } from './inventory/product-added.v1.js';
import { ProductDiscontinuedV1 } from './inventory/product-discontinued.v1.js';
import { ProductUpdatedV1 } from './inventory/product-updated.v1.js';
import { StockAdjustedV1 } from './inventory/stock-adjusted.v1.js';
import { OrderCancelledV1 } from './orders/order-cancelled.v1.js';
import { OrderConfirmedV1 } from './orders/order-confirmed.v1.js';
import { OrderPlacedV1 } from './orders/order-placed.v1.js';
import { OrderPlacedV2 } from './orders/order-placed.v2.js';
import { OrderRejectedV1 } from './orders/order-rejected.v1.js';
import { PaymentProcessedV1 } from './orders/payment-processed.v1.js';
import { UserRegisteredV1 } from './users/user-registered.v1.js';

/** The latest version of every event type: what producers publish and handlers receive. */
export const LATEST_EVENTS = {
  'user.registered': UserRegisteredV1,
  'product.added': ProductAddedV1,
  'order.placed': OrderPlacedV2,
  'order.confirmed': OrderConfirmedV1,
  'order.rejected': OrderRejectedV1,
  'order.cancelled': OrderCancelledV1,
  'payment.processed': PaymentProcessedV1,
  'inventory.reserved': InventoryReservedV1,
  'inventory.reservation-failed': InventoryReservationFailedV1,
  'inventory.released': InventoryReleasedV1,
  'product.updated': ProductUpdatedV1,
  'product.discontinued': ProductDiscontinuedV1,
  'stock.adjusted': StockAdjustedV1,
} as const satisfies Record<string, EventDefinition>;

/** Every released version of every event type, oldest first within a type. */
export const ALL_EVENT_VERSIONS: readonly EventDefinition[] = [
  UserRegisteredV1,
  ProductAddedV1,
  OrderPlacedV1,
  OrderPlacedV2,
  OrderConfirmedV1,
  OrderRejectedV1,
  OrderCancelledV1,
  PaymentProcessedV1,
  InventoryReservedV1,
  InventoryReservationFailedV1,
  InventoryReleasedV1,
  ProductUpdatedV1,
  ProductDiscontinuedV1,
  StockAdjustedV1,
];

/** The wire name of every event type. */
export type EventType = keyof typeof LATEST_EVENTS;

/** The payload of the latest version of each event type. */
export type EventPayloads = { [K in EventType]: EventData<(typeof LATEST_EVENTS)[K]> };

/** All event type names. */
export const EVENT_TYPES = Object.keys(LATEST_EVENTS) as EventType[];

/** True when `type` is a wire name of the catalog. */
export function isEventType(type: string): type is EventType {
  return Object.hasOwn(LATEST_EVENTS, type);
}
