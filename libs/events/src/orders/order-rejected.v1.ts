import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { SkuList, Uuid } from '../primitives.js';

/** The order could not be reserved in time or at all (producer: orders). */
export const OrderRejectedV1 = defineEvent(
  'order.rejected',
  1,
  Type.Object({
    orderId: Uuid('The order'),
    userId: Uuid('The customer'),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    shortSkus: SkuList('The SKUs inventory was short of; empty for a timeout'),
  }),
);
export type OrderRejectedV1Data = EventData<typeof OrderRejectedV1>;
