import { CreateAccounts1764100000000 } from './1764100000000-create-accounts.js';
import { AccountRoles1797000000003 } from './1797000000003-account-roles.js';

/** Users' migrations, oldest first (after the messaging tables). */
export const USERS_MIGRATIONS = [CreateAccounts1764100000000, AccountRoles1797000000003];
