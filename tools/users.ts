// npm run users -- grant-admin <email> [--operator <name>] | revoke-admin <email> | role-changes
import { runUsersCommand } from '../apps/users/src/accounts/roles-command.js';

process.exitCode = await runUsersCommand(process.argv.slice(2), process.env, (line) =>
  process.stdout.write(`${line}\n`),
);
