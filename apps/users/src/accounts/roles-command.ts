/**
 * The users command (tools/users.ts): `npm run users -- grant-admin <email> [--operator <name>]` and `revoke-admin`: gives or takes
 * the admin role of an account, in the users database of `DATABASE_URL` (or `USERS_DATABASE_URL`),
 * and records who did it in `role_changes` (`--operator`, else the login name running it);
 * `role-changes` lists that audit. The account's next token carries the change: one already
 * issued keeps its role until it expires (`JWT_TTL`).
 */
import {
  DatabaseOpenError,
  dataSourceOptions,
  loadServiceConfig,
  transaction,
} from '@app/platform';
import { userInfo } from 'node:os';
import { DataSource } from 'typeorm';
import { Accounts, type Role } from './accounts.js';

const USAGE =
  'usage: npm run users -- grant-admin <email> [--operator <name>] | revoke-admin <email> [--operator <name>] | role-changes';

export async function runUsersCommand(
  args: string[],
  env: NodeJS.ProcessEnv,
  out: (line: string) => void,
): Promise<number> {
  const [command, email] = args;
  const operatorAt = args.indexOf('--operator');
  // An empty --operator (`--operator "$USER"` where USER is unset) names no one: the login does.
  const operator =
    (operatorAt >= 0 ? args[operatorAt + 1]?.trim() : undefined) || userInfo().username;
  const roles: Record<string, Role> = { 'grant-admin': 'admin', 'revoke-admin': 'customer' };
  if (command !== 'role-changes' && (!command || !(command in roles) || !email)) {
    out(USAGE);
    return 2;
  }
  const config = loadServiceConfig('users', {
    ...env,
    DATABASE_URL: env.USERS_DATABASE_URL ?? env.DATABASE_URL,
  });
  let dataSource: DataSource;
  try {
    dataSource = await new DataSource(
      dataSourceOptions(config.databaseUrl, [], 'users-cli'),
    ).initialize();
  } catch (error) {
    // Names the database (password hidden) and what to check.
    out(new DatabaseOpenError(config.databaseUrl, 'connect', error).message);
    return 1;
  }
  const accounts = new Accounts();
  try {
    if (command === 'role-changes') {
      for (const change of await accounts.roleChanges(dataSource.manager))
        out(JSON.stringify({ ...change, changedAt: change.changedAt.toISOString() }));
      return 0;
    }
    const role = roles[command]!;
    const outcome = await transaction(dataSource, (manager) =>
      accounts.setRole(manager, email!, role, operator),
    );
    if (!outcome) {
      out(`No account has the email ${email}; register it first (POST /users on the gateway).`);
      return 1;
    }
    out(
      JSON.stringify({
        account: outcome.id,
        email,
        role,
        operator,
        changed: outcome.changed,
        note: outcome.changed
          ? 'The next token of this account carries the role; tokens issued before keep theirs until they expire.'
          : `The account already had the role ${role}; nothing recorded.`,
      }),
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}
