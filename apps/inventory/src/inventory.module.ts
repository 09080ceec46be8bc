import {
  brokerCheck,
  MESSAGING_MIGRATIONS,
  MessagingModule,
  MessagingService,
  messagingOptionsFrom,
} from '@app/messaging';
import {
  databaseCheck,
  databaseModule,
  HealthController,
  MetricsController,
  READINESS_CHECKS,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { INVENTORY_MIGRATIONS } from './migrations/index.js';
import { ReleaseStockHandler } from './reservations/release-stock.handler.js';
import { ReserveStockHandler } from './reservations/reserve-stock.handler.js';
import { SellStockHandler } from './reservations/sell-stock.handler.js';
import { StockController } from './stock/stock.controller.js';

/** The inventory service: products, stock and reservations. */
@Module({})
export class InventoryModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: InventoryModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        databaseModule(config, [...MESSAGING_MIGRATIONS, ...INVENTORY_MIGRATIONS]),
        MessagingModule.forRoot({ ...messagingOptionsFrom(config), isGlobal: true }),
      ],
      controllers: [HealthController, MetricsController, StockController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        {
          provide: READINESS_CHECKS,
          useFactory: (dataSource: DataSource, messaging: MessagingService) => [
            databaseCheck(dataSource),
            brokerCheck(messaging),
          ],
          inject: [DataSource, MessagingService],
        },
        ReserveStockHandler,
        ReleaseStockHandler,
        SellStockHandler,
      ],
    };
  }
}
