import { CreateOrders1764400000000 } from './1764400000000-create-orders.js';
import { OrdersHandlerIds1796000000001 } from './1796000000001-handler-ids.js';
import { CatalogVersions1797000000002 } from './1797000000002-catalog-versions.js';

/** Orders's migrations, oldest first (after the messaging tables). */
export const ORDERS_MIGRATIONS = [
  CreateOrders1764400000000,
  OrdersHandlerIds1796000000001,
  CatalogVersions1797000000002,
];
