import { bootstrapService } from '@app/platform';
import { CATALOG_ERROR_STATUS } from './catalog/catalog-decision.js';
import { InventoryModule } from './inventory.module.js';

await bootstrapService('inventory', {
  module: (config) => InventoryModule.forRoot(config),
  errorStatus: CATALOG_ERROR_STATUS,
});
