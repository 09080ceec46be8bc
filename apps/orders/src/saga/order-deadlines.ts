import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

/** A saga deadline: an order waits for its reservation, or for its payment. */
export interface Deadline {
  order_id: string;
  kind: 'reservation' | 'payment';
}

/**
 * The saga's deadlines (`order_deadlines`, its only owner): set with each command, claimed by
 * the deadline poller when due. Every method takes the manager of the caller's transaction.
 */
@Injectable()
export class OrderDeadlines {
  /** Sets the order's one deadline (its others go), or clears them all (`undefined`). */
  async set(
    manager: EntityManager,
    orderId: string,
    wait: { kind: Deadline['kind']; ms: number } | undefined,
  ): Promise<void> {
    if (!wait) {
      await manager.query(`DELETE FROM order_deadlines WHERE order_id = $1`, [orderId]);
      return;
    }
    // One statement: the other deadlines of the order go, its current one is set.
    await manager.query(
      `WITH others AS (DELETE FROM order_deadlines WHERE order_id = $1 AND kind <> $2)
       INSERT INTO order_deadlines (order_id, kind, due_at)
       VALUES ($1, $2, now() + ($3 || ' milliseconds')::interval)
       ON CONFLICT (order_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at`,
      [orderId, wait.kind, String(wait.ms)],
    );
  }

  /**
   * Claims the next due deadline and removes it, in the caller's transaction (`SKIP LOCKED`:
   * replicas poll safely; a rollback puts it back).
   */
  async claimDue(manager: EntityManager): Promise<Deadline | undefined> {
    const [claimed] = await manager.query<Deadline[]>(
      `SELECT order_id, kind FROM order_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    if (claimed) await this.drop(manager, claimed);
    return claimed;
  }

  /** Removes one deadline. */
  async drop(manager: EntityManager, deadline: Deadline): Promise<void> {
    await manager.query(`DELETE FROM order_deadlines WHERE order_id = $1 AND kind = $2`, [
      deadline.order_id,
      deadline.kind,
    ]);
  }

  /** Pushes one deadline `ms` into the future. */
  async postpone(manager: EntityManager, deadline: Deadline, ms: number): Promise<void> {
    await manager.query(
      `UPDATE order_deadlines SET due_at = now() + ($3 || ' milliseconds')::interval
        WHERE order_id = $1 AND kind = $2`,
      [deadline.order_id, deadline.kind, String(ms)],
    );
  }
}
