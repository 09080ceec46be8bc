import { type EntityManager } from 'typeorm';

export type ReservationStatus = 'NEW' | 'RESERVED' | 'FAILED' | 'CANCELLED' | 'RELEASED' | 'SOLD';
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
  await manager.query(
    `INSERT INTO reservations (order_id, status) VALUES ($1, 'NEW') ON CONFLICT DO NOTHING`,
    [orderId],
  );
  const [row] = await manager.query<{ status: ReservationStatus; items: ItemQuantity[] }[]>(
    `SELECT status, items FROM reservations WHERE order_id = $1 FOR UPDATE`,
    [orderId],
  );
  return row!;
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

/** Sums quantities per SKU (an order may list a SKU twice), sorted by SKU for lock order. */
export function totalsBySku(items: readonly ItemQuantity[]): ItemQuantity[] {
  const totals = new Map<string, number>();
  for (const item of items) totals.set(item.sku, (totals.get(item.sku) ?? 0) + item.quantity);
  return [...totals]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sku, quantity]) => ({ sku, quantity }));
}
