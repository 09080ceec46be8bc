import { InternalCallerGuard } from '@app/platform';
import { Controller, Get, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type StockLevel, stockLevels } from './stock.repository.js';

/** Internal: stock levels per SKU. */
@Controller('stock')
@UseGuards(InternalCallerGuard)
export class StockController {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /stock` -> `[{sku, onHand, reserved, available}]`. */
  @Get()
  list(): Promise<StockLevel[]> {
    return stockLevels(this.dataSource.manager);
  }
}
