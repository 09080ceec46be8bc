import { serviceModule } from '@app/service';
import { type ServiceConfig } from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { INVENTORY_MIGRATIONS } from './migrations/index.js';
import { ReleaseStockHandler } from './reservations/release-stock.handler.js';
import { ReserveStockHandler } from './reservations/reserve-stock.handler.js';
import { SellStockHandler } from './reservations/sell-stock.handler.js';
import { Products } from './catalog/products.js';
import { ProductCatalog } from './catalog/product-catalog.service.js';
import { ProductsController } from './catalog/products.controller.js';
import { CatalogSeeder } from './catalog/seed-catalog.js';
import { StockAdjustments } from './catalog/stock-adjustments.js';
import { StockController } from './stock/stock.controller.js';

/** The inventory service: products, stock and reservations. */
@Module({})
export class InventoryModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return serviceModule(InventoryModule, config, {
      migrations: INVENTORY_MIGRATIONS,
      readiness: 'database-and-broker',
      metricsOnMainPort: true,
      controllers: [StockController, ProductsController],
      providers: [
        ReserveStockHandler,
        ReleaseStockHandler,
        SellStockHandler,
        Products,
        StockAdjustments,
        ProductCatalog,
        CatalogSeeder,
      ],
    });
  }
}
