/** Stable codes of the order domain's errors. */
export type OrderErrorCode =
  | 'ORDER.NOT_FOUND'
  | 'ORDER.ALREADY_EXISTS'
  | 'ORDER.INVALID_STATE'
  | 'ORDER.ALREADY_CANCELLED'
  | 'ORDER.AMOUNT_MISMATCH'
  | 'ORDER.UNKNOWN_SKU'
  | 'ORDER.MIXED_CURRENCIES';

/** A command the aggregate refuses; the code says why. */
export class OrderError extends Error {
  constructor(
    readonly code: OrderErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OrderError';
  }
}

/** Another command appended to the stream first; the caller may retry on fresh state. */
export class ConcurrencyError extends Error {
  readonly code = 'ORDER.CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(
      `Order ${streamId} is being changed by another request (it moved past version ${expectedVersion}); try again.`,
    );
    this.name = 'ConcurrencyError';
  }
}
