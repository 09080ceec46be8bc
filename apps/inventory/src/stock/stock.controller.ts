import { InternalCallerGuard } from '@app/platform';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StockLevel {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

/** Internal: stock levels per SKU. */
@Controller('stock')
@UseGuards(InternalCallerGuard)
export class StockController {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /stock` -> `[{sku, onHand, reserved, available}]`. */
  @Get()
  async list(): Promise<StockLevel[]> {
    const rows = await this.dataSource.query<{ sku: string; on_hand: number; reserved: number }[]>(
      `SELECT sku, on_hand, reserved FROM stock ORDER BY sku`,
    );
    return rows.map((row) => ({
      sku: row.sku,
      onHand: row.on_hand,
      reserved: row.reserved,
      available: row.on_hand - row.reserved,
    }));
  }
}
