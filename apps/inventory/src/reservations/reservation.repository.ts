import { pipelined } from '@app/platform';
import { type EntityManager } from 'typeorm';

/**
 * NEW: the row exists (locked first by whichever event of the order came first); RESERVED;
 * FAILED (short of stock); CANCELLED and REJECTED (the order ended before it was placed here:
 * a late `order.placed` reserves nothing); RELEASED; SOLD.
 */
export type ReservationStatus =
  'NEW' | 'RESERVED' | 'FAILED' | 'CANCELLED' | 'REJECTED' | 'RELEASED' | 'SOLD';
export interface ItemQuantity {
  sku: string;
  quantity: number;
}

/**
 * Takes the row lock of an order's reservation, creating the row when this is the first event
 * about the order. `order.placed`, `order.cancelled` and `payment.processed` of one order are
 * thus applied one after the other, whatever order they arrive in.
 */
export async function lockReservation(
  manager: EntityManager,
  orderId: string,
): Promise<{ status: ReservationStatus; items: ItemQuantity[] }> {
  // Sent together: the row exists (inserted here or before) when the lock is taken.
  const [, locked] = await pipelined<{ status: ReservationStatus; items: ItemQuantity[] }>(
    manager,
    [
      {
        sql: `INSERT INTO reservations (order_id, status) VALUES ($1, 'NEW') ON CONFLICT DO NOTHING`,
        params: [orderId],
      },
      {
        sql: `SELECT status, items FROM reservations WHERE order_id = $1 FOR UPDATE`,
        params: [orderId],
      },
    ],
  );
  return locked![0]!;
}

/** Records the outcome for an order. */
export async function setReservation(
  manager: EntityManager,
  orderId: string,
  status: ReservationStatus,
  items?: ItemQuantity[],
): Promise<void> {
  await manager.query(
    `UPDATE reservations SET status = $2, items = COALESCE($3::jsonb, items), updated_at = now() WHERE order_id = $1`,
    [orderId, status, items ? JSON.stringify(items) : null],
  );
}

/**
 * Adds each item's quantity, times the given factors, to `reserved` and `on_hand` of its
 * SKU: one statement per SKU, sent together, in the items' order (by SKU, as `totalsBySku`
 * sorts them) so every handler takes the row locks in the same order.
 */
export async function adjustStock(
  manager: EntityManager,
  items: readonly ItemQuantity[],
  factors: { reserved: -1 | 0 | 1; onHand: -1 | 0 },
): Promise<void> {
  await pipelined(
    manager,
    items.map((item) => ({
      sql: `UPDATE stock SET reserved = reserved + $2, on_hand = on_hand + $3 WHERE sku = $1`,
      params: [item.sku, factors.reserved * item.quantity, factors.onHand * item.quantity],
    })),
  );
}

/** Sums quantities per SKU (an order may list a SKU twice), sorted by SKU for lock order. */
export function totalsBySku(items: readonly ItemQuantity[]): ItemQuantity[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sku, quantity]) => ({ sku, quantity }));
}
