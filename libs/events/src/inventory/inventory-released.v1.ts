import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { SkuQuantities, Uuid } from '../primitives.js';

/** The reservation of a cancelled order went back to stock (producer: inventory). */
export const InventoryReleasedV1 = defineEvent(
  'inventory.released',
  1,
  Type.Object({ orderId: Uuid('The order'), items: SkuQuantities() }),
);
export type InventoryReleasedV1Data = EventData<typeof InventoryReleasedV1>;
