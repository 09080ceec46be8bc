import { pipelined } from '@app/platform';
import { type EntityManager } from 'typeorm';
import { type ItemQuantity } from '../reservations/reservation-decision.js';

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

/**
 * Takes the row locks of these SKUs' stock, in SKU order (concurrent reservations then queue up
 * instead of deadlocking), and returns what is available of each (on hand less reserved); a
 * SKU inventory does not stock is absent.
 */
export async function lockAvailable(
  manager: EntityManager,
  skus: readonly string[],
): Promise<Map<string, number>> {
  const rows = await manager.query<{ sku: string; available: number }[]>(
    `SELECT sku, on_hand - reserved AS available FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE`,
    [skus],
  );
  return new Map(rows.map((row) => [row.sku, Number(row.available)]));
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

/** Every SKU's stock, by SKU. */
export async function stockLevels(manager: EntityManager): Promise<StockLevel[]> {
  const rows = await manager.query<{ sku: string; on_hand: number; reserved: number }[]>(
    `SELECT sku, on_hand, reserved FROM stock ORDER BY sku`,
  );
  return rows.map((row) => ({
    sku: row.sku,
    onHand: row.on_hand,
    reserved: row.reserved,
    available: row.on_hand - row.reserved,
  }));
}

/** The stock row of a new product. */
export async function insertStock(manager: EntityManager, sku: string, onHand: number) {
  await manager.query(`INSERT INTO stock (sku, on_hand) VALUES ($1, $2)`, [sku, onHand]);
}

/** Takes the row lock of one SKU's stock and returns it; undefined when inventory lacks it. */
export async function lockStock(
  manager: EntityManager,
  sku: string,
): Promise<{ onHand: number; reserved: number } | undefined> {
  const [row] = await manager.query<{ on_hand: number; reserved: number }[]>(
    `SELECT on_hand, reserved FROM stock WHERE sku = $1 FOR UPDATE`,
    [sku],
  );
  return row ? { onHand: row.on_hand, reserved: row.reserved } : undefined;
}

/** Sets one SKU's stock on hand (under the lock `lockStock` took). */
export async function setOnHand(manager: EntityManager, sku: string, onHand: number) {
  await manager.query(`UPDATE stock SET on_hand = $2 WHERE sku = $1`, [sku, onHand]);
}
