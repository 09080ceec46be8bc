import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { SkuQuantities, Uuid } from '../primitives.js';

/** Every item of an order was reserved (producer: inventory). */
export const InventoryReservedV1 = defineEvent(
  'inventory.reserved',
  1,
  Type.Object({ orderId: Uuid('The order'), items: SkuQuantities() }),
);
export type InventoryReservedV1Data = EventData<typeof InventoryReservedV1>;
