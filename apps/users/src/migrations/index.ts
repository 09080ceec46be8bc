import { CreateAccounts1764100000000 } from './1764100000000-create-accounts.js';

/** Users' migrations, oldest first (after the messaging tables). */
export const USERS_MIGRATIONS = [CreateAccounts1764100000000];
