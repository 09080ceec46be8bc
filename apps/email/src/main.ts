import { bootstrapService } from '@app/platform';
import { EmailModule } from './email.module.js';

await bootstrapService(EmailModule, { service: 'email', defaultPort: 3003 });
