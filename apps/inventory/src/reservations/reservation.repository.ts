import { pipelined } from '@app/platform';
import { type EntityManager } from 'typeorm';
import { type ItemQuantity, type ReservationStatus } from './reservation-decision.js';

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
