import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type OrderItem, type OrderState, type OrderStatus } from '../domain/order.js';
import { OrderError } from '../domain/order-errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Order ids are UUIDs; anything else is answered like an unknown order. */
export const isOrderId = (value: string) => UUID.test(value);

export interface OrderView {
  orderId: string;
  userId: string;
  status: OrderStatus;
  items: OrderItem[];
  totalCents: number;
  currency: string;
  version: number;
}

interface OrderRow {
  order_id: string;
  user_id: string;
  status: OrderStatus;
  items: OrderItem[];
  total_cents: string;
  currency: string;
  version: number;
  created_text: string;
}

const toView = (row: OrderRow): OrderView => ({
  orderId: row.order_id,
  userId: row.user_id,
  status: row.status,
  items: row.items,
  totalCents: Number(row.total_cents),
  currency: row.currency,
  version: row.version,
});

/**
 * The `orders_view` table, written in the same transaction as the events it reflects; its only
 * owner. Every method takes the manager of the caller's transaction.
 */
@Injectable()
export class OrdersReadModel {
  /** Stores the state after a command. */
  async save(manager: EntityManager, state: OrderState): Promise<void> {
    if (state.status === 'NONE') return;
    await manager.query(
      `INSERT INTO orders_view (order_id, user_id, status, items, total_cents, currency, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp(), clock_timestamp())
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
      [
        state.orderId,
        state.userId,
        state.status,
        JSON.stringify(state.items),
        state.totalCents,
        state.currency,
        state.version,
      ],
    );
  }

  /** How many orders of a user are open (PENDING or CONFIRMED). */
  async countOpen(manager: EntityManager, userId: string): Promise<number> {
    const [row] = await manager.query<{ open: number }[]>(
      `SELECT count(*)::int AS open FROM orders_view
       WHERE user_id = $1 AND status IN ('PENDING', 'CONFIRMED')`,
      [userId],
    );
    return row!.open;
  }

  /** One order of one user, or undefined (also for another user's order). */
  async find(
    manager: EntityManager,
    userId: string,
    orderId: string,
  ): Promise<OrderView | undefined> {
    const [row] = await manager.query<OrderRow[]>(
      `SELECT * FROM orders_view WHERE order_id = $1 AND user_id = $2`,
      [orderId, userId],
    );
    return row ? toView(row) : undefined;
  }

  /**
   * One order of one user; `ORDER.NOT_FOUND` (404) for an unknown order, another user's, or an
   * id that is not a UUID (order ids always are).
   */
  async findOwned(manager: EntityManager, userId: string, orderId: string): Promise<OrderView> {
    const order = isOrderId(orderId) ? await this.find(manager, userId, orderId) : undefined;
    if (!order) throw new OrderError('ORDER.NOT_FOUND', `Order ${orderId} not found.`);
    return order;
  }

  /** A user's orders, newest first, after the cursor `(created_at, order_id)`. */
  async page(
    manager: EntityManager,
    userId: string,
    limit: number,
    after?: { createdAt: string; orderId: string },
  ): Promise<{ items: OrderView[]; next?: { createdAt: string; orderId: string } }> {
    const rows = await manager.query<OrderRow[]>(
      after
        ? `SELECT *, created_at::text AS created_text FROM orders_view WHERE user_id = $1 AND (created_at, order_id) < ($3::timestamptz, $4::uuid)
           ORDER BY created_at DESC, order_id DESC LIMIT $2`
        : `SELECT *, created_at::text AS created_text FROM orders_view WHERE user_id = $1 ORDER BY created_at DESC, order_id DESC LIMIT $2`,
      after ? [userId, limit + 1, after.createdAt, after.orderId] : [userId, limit + 1],
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(toView),
      ...(rows.length > limit && last
        ? { next: { createdAt: last.created_text, orderId: last.order_id } }
        : {}),
    };
  }
}
