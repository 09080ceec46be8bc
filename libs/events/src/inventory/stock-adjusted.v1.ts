import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Sku } from '../primitives.js';

/** Why stock on hand changed outside an order. */
export const STOCK_ADJUSTMENT_REASONS = ['received', 'damaged', 'count-correction'] as const;
export type StockAdjustmentReason = (typeof STOCK_ADJUSTMENT_REASONS)[number];

/**
 * An operator changed a product's stock on hand (producer: inventory): goods received, damaged
 * goods written off, or a stock count corrected. Reservations are not adjustments.
 */
export const StockAdjustedV1 = defineEvent(
  'stock.adjusted',
  1,
  Type.Object({
    sku: Sku(),
    reason: Type.Union(STOCK_ADJUSTMENT_REASONS.map((reason) => Type.Literal(reason))),
    change: Type.Integer({
      minimum: -1_000_000,
      maximum: 1_000_000,
      description: 'Units added to (positive) or removed from (negative) stock on hand',
    }),
    onHand: Type.Integer({ minimum: 0, description: 'Stock on hand after the change' }),
    reserved: Type.Integer({ minimum: 0, description: 'Units reserved by open orders' }),
  }),
);
export type StockAdjustedV1Data = EventData<typeof StockAdjustedV1>;
