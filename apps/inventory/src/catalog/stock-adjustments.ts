import { type StockAdjustmentView } from '@app/contracts';
import { type StockAdjustmentReason } from '@app/events';
import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

interface AdjustmentRow {
  id: string;
  sku: string;
  reason: StockAdjustmentReason;
  change: number;
  on_hand: number;
  actor: string;
  note: string | null;
  made_at: Date;
}

const COLUMNS = 'id, sku, reason, change, on_hand, actor, note, made_at';
const SELECT = `SELECT ${COLUMNS} FROM stock_adjustments`;

const toView = (row: AdjustmentRow): StockAdjustmentView => ({
  id: Number(row.id),
  sku: row.sku,
  reason: row.reason,
  change: row.change,
  onHand: row.on_hand,
  actor: row.actor,
  note: row.note,
  madeAt: row.made_at.toISOString(),
});

/** The `stock_adjustments` table (its only owner): who changed which stock, by how much, why. */
@Injectable()
export class StockAdjustments {
  async record(
    manager: EntityManager,
    adjustment: {
      sku: string;
      reason: StockAdjustmentReason;
      change: number;
      onHand: number;
      actor: string;
      note?: string | undefined;
      correlationId?: string | undefined;
      idempotencyKey?: string | undefined;
    },
  ): Promise<StockAdjustmentView> {
    const [row] = await manager.query<AdjustmentRow[]>(
      `INSERT INTO stock_adjustments
         (sku, reason, change, on_hand, actor, note, correlation_id, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [
        adjustment.sku,
        adjustment.reason,
        adjustment.change,
        adjustment.onHand,
        adjustment.actor,
        adjustment.note ?? null,
        adjustment.correlationId ?? null,
        adjustment.idempotencyKey ?? null,
      ],
    );
    return toView(row!);
  }

  /** A SKU's adjustments, oldest first. */
  async ofSku(manager: EntityManager, sku: string): Promise<StockAdjustmentView[]> {
    const rows = await manager.query<AdjustmentRow[]>(`${SELECT} WHERE sku = $1 ORDER BY id`, [
      sku,
    ]);
    return rows.map(toView);
  }

  /** The adjustment recorded under an Idempotency-Key, if one was. */
  async byKey(manager: EntityManager, key: string): Promise<StockAdjustmentView | undefined> {
    const [row] = await manager.query<AdjustmentRow[]>(`${SELECT} WHERE idempotency_key = $1`, [
      key,
    ]);
    return row ? toView(row) : undefined;
  }
}
