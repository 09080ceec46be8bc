import { bootstrapService } from '@app/platform';
import { InventoryModule } from './inventory.module.js';

await bootstrapService(InventoryModule, { service: 'inventory', defaultPort: 3002 });
