import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Uuid } from '../primitives.js';

/** The order was cancelled by its customer or for want of payment (producer: orders). */
export const OrderCancelledV1 = defineEvent(
  'order.cancelled',
  1,
  Type.Object({
    orderId: Uuid('The order'),
    userId: Uuid('The customer'),
    reason: Type.Union([Type.Literal('customer'), Type.Literal('payment-timeout')]),
  }),
);
export type OrderCancelledV1Data = EventData<typeof OrderCancelledV1>;
