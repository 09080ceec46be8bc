import { bootstrapService } from '@app/platform';
import { OrdersModule } from './orders.module.js';

await bootstrapService(OrdersModule, { service: 'orders', defaultPort: 3000 });
