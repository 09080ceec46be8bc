import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Cents, Currency, Uuid } from '../primitives.js';

/** Inventory reserved the order; it awaits payment (producer: orders). */
export const OrderConfirmedV1 = defineEvent(
  'order.confirmed',
  1,
  Type.Object({
    orderId: Uuid('The order'),
    userId: Uuid('The customer'),
    totalCents: Cents('Amount due'),
    currency: Currency(),
  }),
);
export type OrderConfirmedV1Data = EventData<typeof OrderConfirmedV1>;
