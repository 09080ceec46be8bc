import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Cents, Currency, Quantity, Sku, Uuid } from '../primitives.js';

/** A customer placed an order, priced from the catalog (producer: orders). */
export const OrderPlacedV2 = defineEvent(
  'order.placed',
  2,
  Type.Object({
    orderId: Uuid('The order'),
    userId: Uuid('The customer'),
    items: Type.Array(
      Type.Object({
        sku: Sku(),
        quantity: Quantity(),
        unitPriceCents: Cents('Unit price in minor units'),
      }),
      { minItems: 1 },
    ),
    totalCents: Cents('Sum of quantity x unit price'),
    currency: Currency(),
  }),
);
export type OrderPlacedV2Data = EventData<typeof OrderPlacedV2>;
