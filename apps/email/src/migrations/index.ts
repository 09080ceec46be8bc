import { CreateEmail1764300000000 } from './1764300000000-create-email.js';
import { EmailHandlerIds1796000000003 } from './1796000000003-handler-ids.js';

/** Email's migrations, oldest first (after the messaging tables). */
export const EMAIL_MIGRATIONS = [CreateEmail1764300000000, EmailHandlerIds1796000000003];
