import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { SkuList, Uuid } from '../primitives.js';

/** An order could not be reserved; nothing was reserved (producer: inventory). */
export const InventoryReservationFailedV1 = defineEvent(
  'inventory.reservation-failed',
  1,
  Type.Object({
    orderId: Uuid('The order'),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    shortSkus: SkuList('The SKUs with too little stock, or unknown'),
  }),
);
export type InventoryReservationFailedV1Data = EventData<typeof InventoryReservationFailedV1>;
