import { type EventPayloads } from '@app/events';
import { OrderError } from './order-errors.js';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'PAID' | 'REJECTED' | 'CANCELLED';

export interface OrderItem {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** The events of an Order stream: exactly the published event types, at their latest version. */
export type OrderEvent =
  | { type: 'order.placed'; data: EventPayloads['order.placed'] }
  | { type: 'order.confirmed'; data: EventPayloads['order.confirmed'] }
  | { type: 'order.rejected'; data: EventPayloads['order.rejected'] }
  | { type: 'order.cancelled'; data: EventPayloads['order.cancelled'] }
  | { type: 'payment.processed'; data: EventPayloads['payment.processed'] };

export type OrderCommand =
  | { type: 'PlaceOrder'; orderId: string; userId: string; items: OrderItem[]; currency: string }
  | { type: 'ConfirmOrder'; orderId: string }
  | { type: 'RejectOrder'; orderId: string; reason: string; shortSkus: string[] }
  | { type: 'CancelOrder'; orderId: string; reason: 'customer' | 'payment-timeout' }
  | { type: 'PayOrder'; orderId: string; paymentId: string; amountCents: number };

export type OrderState =
  | { status: 'NONE'; version: 0 }
  | {
      status: OrderStatus;
      version: number;
      orderId: string;
      userId: string;
      items: OrderItem[];
      totalCents: number;
      currency: string;
    };

export const initialOrderState: OrderState = { status: 'NONE', version: 0 };

/** Folds one event into the state. */
export function evolve(state: OrderState, event: OrderEvent): OrderState {
  const version = state.version + 1;
  if (event.type === 'order.placed') {
    const { orderId, userId, items, totalCents, currency } = event.data;
    return { status: 'PENDING', version, orderId, userId, items, totalCents, currency };
  }
  if (state.status === 'NONE') return state;
  switch (event.type) {
    case 'order.confirmed':
      return { ...state, status: 'CONFIRMED', version };
    case 'order.rejected':
      return { ...state, status: 'REJECTED', version };
    case 'order.cancelled':
      return { ...state, status: 'CANCELLED', version };
    case 'payment.processed':
      return { ...state, status: 'PAID', version };
  }
}

/** Finished orders take no outcome any more. */
const FINISHED: ReadonlySet<string> = new Set(['PAID', 'REJECTED', 'CANCELLED']);

/**
 * Decides what happens to an order for one command: the new events, or an `OrderError`.
 * Saga outcomes (confirm, reject, payment-timeout cancel) for an order that has moved on are
 * ignored (no events), so they may arrive late, twice or out of order.
 */
export function decide(command: OrderCommand, state: OrderState): OrderEvent[] {
  if (command.type === 'PlaceOrder') {
    if (state.status !== 'NONE')
      throw new OrderError('ORDER.ALREADY_EXISTS', `Order ${command.orderId} already exists.`);
    const totalCents = command.items.reduce(
      (sum, item) => sum + item.quantity * item.unitPriceCents,
      0,
    );
    return [
      {
        type: 'order.placed',
        data: {
          orderId: command.orderId,
          userId: command.userId,
          items: command.items,
          totalCents,
          currency: command.currency,
        },
      },
    ];
  }
  if (state.status === 'NONE')
    throw new OrderError('ORDER.NOT_FOUND', `Order ${command.orderId} does not exist.`);
  const { orderId, userId } = state;
  switch (command.type) {
    case 'ConfirmOrder':
      if (state.status !== 'PENDING') return [];
      return [
        {
          type: 'order.confirmed',
          data: { orderId, userId, totalCents: state.totalCents, currency: state.currency },
        },
      ];
    case 'RejectOrder':
      if (state.status !== 'PENDING') return [];
      return [
        {
          type: 'order.rejected',
          data: { orderId, userId, reason: command.reason, shortSkus: command.shortSkus },
        },
      ];
    case 'CancelOrder':
      if (command.reason === 'payment-timeout') {
        if (state.status !== 'CONFIRMED') return [];
      } else if (state.status === 'CANCELLED') {
        throw new OrderError('ORDER.ALREADY_CANCELLED', `Order ${orderId} is already cancelled.`);
      } else if (FINISHED.has(state.status)) {
        throw new OrderError(
          'ORDER.INVALID_STATE',
          `Order ${orderId} is ${state.status} and can no longer be cancelled.`,
        );
      }
      return [{ type: 'order.cancelled', data: { orderId, userId, reason: command.reason } }];
    case 'PayOrder':
      if (state.status !== 'CONFIRMED') {
        throw new OrderError(
          'ORDER.INVALID_STATE',
          `Order ${orderId} is ${state.status}; only a CONFIRMED order can be paid.`,
        );
      }
      if (command.amountCents !== state.totalCents) {
        throw new OrderError(
          'ORDER.AMOUNT_MISMATCH',
          `Payment of ${command.amountCents} does not match the order total of ${state.totalCents} ${state.currency} (minor units).`,
        );
      }
      return [
        {
          type: 'payment.processed',
          data: {
            paymentId: command.paymentId,
            orderId,
            userId,
            amountCents: command.amountCents,
            currency: state.currency,
          },
        },
      ];
  }
}
