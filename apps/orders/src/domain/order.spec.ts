import { describe, expect, it } from '@jest/globals';
import { decide, evolve, initialOrderState, type OrderCommand, type OrderEvent } from './order.js';
import { OrderError } from './order-errors.js';

const orderId = '00000000-0000-4000-8000-000000000001';
const userId = '00000000-0000-4000-8000-000000000002';
const items = [
  { sku: 'KEYBOARD-MX', quantity: 2, unitPriceCents: 8_900 },
  { sku: 'CABLE-USBC', quantity: 1, unitPriceCents: 990 },
];
const placed: OrderEvent = {
  type: 'order.placed',
  data: { orderId, userId, items, totalCents: 18_790, currency: 'EUR' },
};
const confirmed: OrderEvent = {
  type: 'order.confirmed',
  data: { orderId, userId, totalCents: 18_790, currency: 'EUR' },
};
const paid: OrderEvent = {
  type: 'payment.processed',
  data: { paymentId: 'p-1', orderId, userId, amountCents: 18_790, currency: 'EUR' },
};
const cancelled: OrderEvent = {
  type: 'order.cancelled',
  data: { orderId, userId, reason: 'customer' },
};
const rejected: OrderEvent = {
  type: 'order.rejected',
  data: { orderId, userId, reason: 'short', shortSkus: ['X'] },
};

/** given(events).when(command).then(events) | .thenThrows(code) */
const given = (history: OrderEvent[]) => ({
  when: (command: OrderCommand) => {
    const run = () => decide(command, history.reduce(evolve, initialOrderState));
    return {
      then: (expected: OrderEvent[]) => expect(run()).toEqual(expected),
      thenThrows: (code: string) => {
        expect(run).toThrow(OrderError);
        try {
          run();
        } catch (error) {
          expect((error as OrderError).code).toBe(code);
        }
      },
    };
  },
});

describe('Order aggregate', () => {
  it('places an order priced in minor units', () =>
    given([]).when({ type: 'PlaceOrder', orderId, userId, items, currency: 'EUR' }).then([placed]));

  it('refuses to place the same order twice', () =>
    given([placed])
      .when({ type: 'PlaceOrder', orderId, userId, items, currency: 'EUR' })
      .thenThrows('ORDER.ALREADY_EXISTS'));

  it('confirms a pending order', () =>
    given([placed]).when({ type: 'ConfirmOrder', orderId }).then([confirmed]));

  it('rejects a pending order with the short SKUs', () =>
    given([placed])
      .when({ type: 'RejectOrder', orderId, reason: 'short', shortSkus: ['X'] })
      .then([rejected]));

  it.each([
    ['confirmed', [placed, confirmed]],
    ['cancelled', [placed, cancelled]],
    ['rejected', [placed, rejected]],
  ])('ignores a reservation outcome for an order already %s', (_label, history) => {
    given(history).when({ type: 'ConfirmOrder', orderId }).then([]);
    given(history).when({ type: 'RejectOrder', orderId, reason: 'late', shortSkus: [] }).then([]);
  });

  it('takes a payment of exactly the total on a confirmed order', () =>
    given([placed, confirmed])
      .when({ type: 'PayOrder', orderId, paymentId: 'p-1', amountCents: 18_790 })
      .then([paid]));

  it('refuses a payment of another amount', () =>
    given([placed, confirmed])
      .when({ type: 'PayOrder', orderId, paymentId: 'p-1', amountCents: 18_789 })
      .thenThrows('ORDER.AMOUNT_MISMATCH'));

  it('refuses a payment before confirmation and after payment', () => {
    given([placed])
      .when({ type: 'PayOrder', orderId, paymentId: 'p', amountCents: 18_790 })
      .thenThrows('ORDER.INVALID_STATE');
    given([placed, confirmed, paid])
      .when({ type: 'PayOrder', orderId, paymentId: 'p', amountCents: 18_790 })
      .thenThrows('ORDER.INVALID_STATE');
  });

  it('cancels a pending or confirmed order at the customer request', () => {
    given([placed]).when({ type: 'CancelOrder', orderId, reason: 'customer' }).then([cancelled]);
    given([placed, confirmed])
      .when({ type: 'CancelOrder', orderId, reason: 'customer' })
      .then([cancelled]);
  });

  it('refuses to cancel twice, or after payment', () => {
    given([placed, cancelled])
      .when({ type: 'CancelOrder', orderId, reason: 'customer' })
      .thenThrows('ORDER.ALREADY_CANCELLED');
    given([placed, confirmed, paid])
      .when({ type: 'CancelOrder', orderId, reason: 'customer' })
      .thenThrows('ORDER.INVALID_STATE');
  });

  it('cancels a confirmed unpaid order at the payment deadline, and only that', () => {
    given([placed, confirmed])
      .when({ type: 'CancelOrder', orderId, reason: 'payment-timeout' })
      .then([{ type: 'order.cancelled', data: { orderId, userId, reason: 'payment-timeout' } }]);
    given([placed, confirmed, paid])
      .when({ type: 'CancelOrder', orderId, reason: 'payment-timeout' })
      .then([]);
  });

  it('answers not found for commands on an unknown order', () =>
    given([])
      .when({ type: 'CancelOrder', orderId, reason: 'customer' })
      .thenThrows('ORDER.NOT_FOUND'));

  it('evolves status and version event by event', () => {
    const state = [placed, confirmed, paid].reduce(evolve, initialOrderState);
    expect(state).toMatchObject({ status: 'PAID', version: 3, totalCents: 18_790 });
  });
});
