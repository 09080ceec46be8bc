// Inventory's decisions, pure: no database, no broker. The handlers load what they need,
// call these, and write the outcome.

/**
 * NEW: the row exists (locked first by whichever event of the order came first); RESERVED;
 * FAILED (short of stock); CANCELLED and REJECTED (the order ended before it was placed here:
 * a late `order.placed` reserves nothing); RELEASED; SOLD.
 */
export type ReservationStatus =
  'NEW' | 'RESERVED' | 'FAILED' | 'CANCELLED' | 'REJECTED' | 'RELEASED' | 'SOLD';

/** A quantity of one SKU. */
export interface ItemQuantity {
  sku: string;
  quantity: number;
}

/** Sums quantities per SKU (an order may list a SKU twice), sorted by SKU for lock order. */
export function totalsBySku(items: readonly ItemQuantity[]): ItemQuantity[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * Inventory's all-or-none reservation: the SKUs of `wanted` that `available` (what is on hand
 * less reserved, per SKU; a SKU not stocked has none) cannot cover, in `wanted`'s order. None
 * short: reserve every item; any short: reserve nothing.
 */
export function shortOf(
  wanted: readonly ItemQuantity[],
  available: ReadonlyMap<string, number>,
): string[] {
  return wanted
    .filter((item) => (available.get(item.sku) ?? 0) < item.quantity)
    .map((item) => item.sku);
}

/**
 * What an order's end without a sale does to its reservation: nothing seen yet (NEW) is
 * recorded so a late `order.placed` reserves nothing; a reservation is released; a failed,
 * released, sold or already ended one is left as it is.
 */
export function releaseOutcome(status: ReservationStatus): 'record' | 'release' | 'nothing' {
  if (status === 'NEW') return 'record';
  if (status === 'RESERVED') return 'release';
  return 'nothing';
}
