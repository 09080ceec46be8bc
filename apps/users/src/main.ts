import { bootstrapService } from '@app/platform';
import { UsersModule } from './users.module.js';

await bootstrapService('users', { module: (config) => UsersModule.forRoot(config) });
