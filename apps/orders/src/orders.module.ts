import { serviceModule } from '@app/service';
import { RateLimiter, RateLimits1764500000000, type ServiceConfig } from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { AdminGuard, JwtAuthGuard } from './auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard, RateLimitGuard } from './http/rate-limit.guard.js';
import { CancelOrderController } from './cancel-order/cancel-order.controller.js';
import { ProductsController } from './catalog/catalog.controller.js';
import { AdminProductsController } from './admin/admin-products.controller.js';
import { InventoryClient } from './admin/inventory.client.js';
import { CatalogProjection } from './catalog/catalog.handler.js';
import { CatalogProducts } from './catalog/catalog-products.js';
import { ORDERS_MIGRATIONS } from './migrations/index.js';
import { OrderEventStore } from './order-store/order-event-store.js';
import { OrdersReadModel } from './order-store/orders-read-model.js';
import { OrderCommandService } from './order-store/order-command.service.js';
import { PayOrderController } from './pay-order/pay-order.controller.js';
import { PlaceOrderController } from './place-order/place-order.controller.js';
import { IdempotencyKeys } from './place-order/idempotency-keys.js';
import { PlaceOrderService } from './place-order/place-order.service.js';
import { OrdersQueryController } from './query-orders/orders-query.controller.js';
import { DeadlinePoller } from './saga/deadline-poller.js';
import { OrderDeadlines } from './saga/order-deadlines.js';
import { OrderSagaHandlers } from './saga/order-saga.handlers.js';
import { UsersClient } from './users-gateway/users.client.js';
import { UsersGatewayController } from './users-gateway/users-gateway.controller.js';

/** The gateway: public HTTP API, Order aggregate, catalog projection and order saga. */
@Module({})
export class OrdersModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return serviceModule(OrdersModule, config, {
      migrations: [...ORDERS_MIGRATIONS, RateLimits1764500000000],
      // The gateway keeps taking orders while the broker is away: database only.
      readiness: 'database',
      // Metrics on OPS_PORT, never on the public port.
      metricsOnMainPort: false,
      controllers: [
        UsersGatewayController,
        ProductsController,
        PlaceOrderController,
        OrdersQueryController,
        PayOrderController,
        CancelOrderController,
        AdminProductsController,
      ],
      providers: [
        CatalogProducts,
        OrderEventStore,
        OrdersReadModel,
        OrderDeadlines,
        IdempotencyKeys,
        JwtAuthGuard,
        AdminGuard,
        InventoryClient,
        RateLimiter,
        RateLimitGuard,
        OrderWriteLimitGuard,
        UsersClient,
        OrderCommandService,
        PlaceOrderService,
        CatalogProjection,
        OrderSagaHandlers,
        DeadlinePoller,
      ],
    });
  }
}
