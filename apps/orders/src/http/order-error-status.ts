import { type OrderErrorCode } from '../domain/order-errors.js';

/** HTTP status of each order domain error. */
export const ORDER_ERROR_STATUS: Record<OrderErrorCode | 'ORDER.CONCURRENCY', number> = {
  'ORDER.NOT_FOUND': 404,
  'ORDER.ALREADY_EXISTS': 409,
  'ORDER.INVALID_STATE': 409,
  'ORDER.ALREADY_CANCELLED': 409,
  'ORDER.CONCURRENCY': 409,
  'ORDER.AMOUNT_MISMATCH': 422,
  'ORDER.UNKNOWN_SKU': 422,
  'ORDER.MIXED_CURRENCIES': 422,
};
