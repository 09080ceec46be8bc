import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, verifyJwt } from '@app/platform';
import { type RunningServiceApp, startServiceApp, SuiteFixture } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { UsersModule } from '../users.module.js';
import { runUsersCommand } from './roles-command.js';

describe('granting and revoking the admin role (npm run users) against PostgreSQL', () => {
  let fixture: SuiteFixture;
  let users: RunningServiceApp;
  const keys = generateJwtKeyPair();

  beforeAll(async () => {
    fixture = await SuiteFixture.create('roles');
    users = await startServiceApp('users', (config) => UsersModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      JWT_PRIVATE_KEY: keys.privateKey,
    });
  });

  afterAll(async () => {
    await users?.close();
    await fixture?.dispose();
  });

  const post = async (path: string, body: unknown) => {
    const response = await fetch(users.url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };
  const claimsOf = async (email: string) => {
    const { accessToken } = await post('/internal/authenticate', {
      email,
      password: 'correct horse',
    });
    return verifyJwt(accessToken as string, keys.publicKey, {
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
  };
  const run = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runUsersCommand(args, { DATABASE_URL: fixture.database.url }, (line) =>
      lines.push(line),
    );
    return { code, lines };
  };

  it('gives a customer token no role; after grant-admin the next token carries it; revoke takes it back; each change audited', async () => {
    const email = `ops.${randomUUID().slice(0, 6)}@example.com`;
    await post('/internal/register', { email, name: 'Ops', password: 'correct horse' });
    expect((await claimsOf(email)).role).toBeUndefined();

    const granted = await run('grant-admin', email.toUpperCase(), '--operator', 'grace');
    expect(granted.code).toBe(0);
    expect(JSON.parse(granted.lines[0]!)).toMatchObject({ role: 'admin', changed: true });
    expect((await claimsOf(email)).role).toBe('admin');

    const again = await run('grant-admin', email, '--operator', 'grace');
    expect(JSON.parse(again.lines[0]!)).toMatchObject({ changed: false });

    expect((await run('revoke-admin', email, '--operator', 'linus')).code).toBe(0);
    expect((await claimsOf(email)).role).toBeUndefined();

    const audit = (await run('role-changes')).lines
      .map((line) => JSON.parse(line) as { email: string; action: string; operator: string })
      .filter((change) => change.email === email);
    expect(audit.map((change) => [change.action, change.operator])).toEqual([
      ['grant', 'grace'],
      ['revoke', 'linus'],
    ]);

    // `--operator "$USER"` with USER unset: the login running the command is recorded.
    expect(JSON.parse((await run('grant-admin', email, '--operator', '')).lines[0]!)).toMatchObject(
      {
        operator: userInfo().username,
      },
    );
  });

  it('says so when no account has the email or the database cannot be opened, and shows its usage for a bad command', async () => {
    const lines: string[] = [];
    const missing = await run('grant-admin', 'nobody@example.com');
    expect(missing.code).toBe(1);
    expect(missing.lines[0]).toContain('register it first');
    expect((await run('make-admin')).code).toBe(2);
    expect((await run('grant-admin')).lines[0]).toContain('usage');
    const unreachable = await runUsersCommand(
      ['grant-admin', 'ada@example.com'],
      { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:5432/no_such_database' },
      (line) => lines.push(line),
    );
    expect(unreachable).toBe(1);
    expect(lines.at(-1)).toContain('no_such_database');
    expect(lines.at(-1)).not.toContain('secret');
  });
});
