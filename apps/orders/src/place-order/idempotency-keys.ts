import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

/**
 * The `Idempotency-Key`s of `POST /orders` (`idempotency_keys`, its only owner): one order per
 * user and key, with the hash of the request body it was placed for.
 */
@Injectable()
export class IdempotencyKeys {
  /**
   * Claims the key for `orderId`. When another request holds it, `earlier` is that request's
   * body hash and order (absent only if its row could not be read back).
   */
  async claim(
    manager: EntityManager,
    claim: { userId: string; key: string; requestHash: string; orderId: string },
  ): Promise<
    { claimed: true } | { claimed: false; earlier?: { requestHash: string; orderId: string } }
  > {
    const inserted = await manager.query<unknown[]>(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, order_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [claim.userId, claim.key, claim.requestHash, claim.orderId],
    );
    if (inserted.length) return { claimed: true };
    const [existing] = await manager.query<{ request_hash: string; order_id: string }[]>(
      `SELECT request_hash, order_id FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [claim.userId, claim.key],
    );
    return {
      claimed: false,
      ...(existing && {
        earlier: { requestHash: existing.request_hash, orderId: existing.order_id },
      }),
    };
  }
}
