import { bootstrapService } from '@app/platform';
import { InventoryModule } from './inventory.module.js';

await bootstrapService('inventory', { module: (config) => InventoryModule.forRoot(config) });
