import { CreateStock1764200000000 } from './1764200000000-create-stock.js';
import { SeedCatalog1764200000001 } from './1764200000001-seed-catalog.js';
import { InventoryHandlerIds1796000000002 } from './1796000000002-handler-ids.js';
import { ProductAdmin1797000000001 } from './1797000000001-product-admin.js';

/** Inventory's migrations, oldest first (after the messaging tables). */
export const INVENTORY_MIGRATIONS = [
  CreateStock1764200000000,
  SeedCatalog1764200000001,
  InventoryHandlerIds1796000000002,
  ProductAdmin1797000000001,
];
