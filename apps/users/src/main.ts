import { bootstrapService } from '@app/platform';
import { UsersModule } from './users.module.js';

await bootstrapService(UsersModule, { service: 'users', defaultPort: 3001 });
