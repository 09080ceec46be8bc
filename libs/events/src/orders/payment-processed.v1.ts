import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Cents, Currency, Uuid } from '../primitives.js';

/** The order's total was paid (producer: orders). */
export const PaymentProcessedV1 = defineEvent(
  'payment.processed',
  1,
  Type.Object({
    paymentId: Uuid('The payment'),
    orderId: Uuid('The order'),
    userId: Uuid('The customer'),
    amountCents: Cents('Amount paid'),
    currency: Currency(),
  }),
);
export type PaymentProcessedV1Data = EventData<typeof PaymentProcessedV1>;
