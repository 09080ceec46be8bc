import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, verifyJwt } from '@app/platform';
import { type RunningServiceApp, startServiceApp, SuiteFixture } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UsersModule } from '../users.module.js';

describe('users against PostgreSQL and RabbitMQ', () => {
  let fixture: SuiteFixture;
  let users: RunningServiceApp;
  const keys = generateJwtKeyPair();

  beforeAll(async () => {
    fixture = await SuiteFixture.create('users');
    users = await startServiceApp('users', (config) => UsersModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      JWT_PRIVATE_KEY: keys.privateKey,
      JWT_TTL: '10m',
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
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('stores the account and user.registered in one transaction, without the password', async () => {
    const email = `Ada.${randomUUID().slice(0, 6)}@Example.com`;
    const registered = await post('/internal/register', {
      email,
      name: 'Ada',
      password: 'correct horse',
    });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ id: expect.any(String), email, name: 'Ada' });
    const dataSource = users.app.get(DataSource);
    const [row] = await dataSource.query<{ type: string; payload: string }[]>(
      `SELECT type, payload FROM messaging_outbox WHERE type = 'user.registered' AND payload LIKE $1`,
      [`%${registered.body.id as string}%`],
    );
    expect(row?.type).toBe('user.registered');
    expect(JSON.parse(row!.payload)).toMatchObject({
      data: { userId: registered.body.id, email, name: 'Ada' },
    });
    expect(row!.payload).not.toContain('correct horse');
    expect(row!.payload).not.toContain('scrypt');
    const [account] = await dataSource.query<{ password_hash: string }[]>(
      `SELECT password_hash FROM accounts WHERE id = $1`,
      [registered.body.id],
    );
    expect(account!.password_hash).toMatch(/^scrypt\$/);
  });

  it('answers 409 for an email taken in another case, and stores nothing', async () => {
    const email = `grace.${randomUUID().slice(0, 6)}@example.com`;
    expect(
      (await post('/internal/register', { email, name: 'Grace', password: 'correct horse' }))
        .status,
    ).toBe(201);
    const again = await post('/internal/register', {
      email: email.toUpperCase(),
      name: 'G',
      password: 'correct horse',
    });
    expect(again).toEqual({
      status: 409,
      body: {
        statusCode: 409,
        error: 'Conflict',
        message: 'An account with this email already exists.',
      },
    });
    const [count] = await users.app
      .get(DataSource)
      .query<{ n: string }[]>(`SELECT count(*) AS n FROM messaging_outbox WHERE payload ILIKE $1`, [
        `%${email}%`,
      ]);
    expect(Number(count!.n)).toBe(1);
  });

  it('issues an EdDSA token whose subject is the account, and 401 for a wrong password or unknown email', async () => {
    const email = `linus.${randomUUID().slice(0, 6)}@example.com`;
    const { body } = await post('/internal/register', {
      email,
      name: 'Linus',
      password: 'correct horse',
    });
    const token = await post('/internal/authenticate', {
      email: email.toUpperCase(),
      password: 'correct horse',
    });
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 600 });
    const claims = verifyJwt(token.body.accessToken as string, keys.publicKey, {
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
    });
    expect(claims.sub).toBe(body.id);
    expect((await post('/internal/authenticate', { email, password: 'wrong horse' })).status).toBe(
      401,
    );
    const unknown = await post('/internal/authenticate', {
      email: 'nobody@example.com',
      password: 'correct horse',
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe('Email or password is wrong.');
  });
});
