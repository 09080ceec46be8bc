import { bootstrapService } from '@app/platform';
import { EmailModule } from './email.module.js';

await bootstrapService('email', { module: (config) => EmailModule.forRoot(config) });
