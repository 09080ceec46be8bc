import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';

/**
 * The legacy shape of the original pattern: a float total and `productId`/`price` items.
 * Nobody produces it any more; consumers upcast it to v2.
 */
export const OrderPlacedV1 = defineEvent(
  'order.placed',
  1,
  Type.Object({
    orderId: Type.String({ minLength: 1 }),
    userId: Type.String({ minLength: 1 }),
    items: Type.Array(
      Type.Object({
        productId: Type.String({ minLength: 1 }),
        price: Type.Number({ minimum: 0 }),
        quantity: Type.Integer({ minimum: 1 }),
      }),
      { minItems: 1 },
    ),
    totalAmount: Type.Number({ minimum: 0 }),
  }),
);
export type OrderPlacedV1Data = EventData<typeof OrderPlacedV1>;
