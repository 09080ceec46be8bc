import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, signJwt } from '@app/platform';
import { queryOn } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { call, System } from './system.js';

const INTERNAL_TOKEN = 'e2e-internal-token-0123456789abcdef0123456789';
const PASSWORD = 'correct horse battery';
/** Order writes a user may make per minute, and open orders a user may hold, in this suite. */
const ORDER_WRITES = 8;
const OPEN_ORDERS = 3;

/**
 * A JSON POST from the local address `from` (all of 127.0.0.0/8 is this machine), so each test
 * is a client of its own to the per-client limits; `body` as a string is sent as it is.
 */
function postFrom(
  from: string,
  url: string,
  body: unknown,
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        localAddress: from,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: text ? (JSON.parse(text) as unknown) : undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** What a penetration test found, tried against the four services as deployed. */
describe('security of the running services', () => {
  let system: System;
  const keys = generateJwtKeyPair();

  beforeAll(async () => {
    system = await System.start({
      INTERNAL_TOKEN,
      JWT_PRIVATE_KEY: keys.privateKey,
      JWT_PUBLIC_KEY: keys.publicKey,
      RATE_LIMIT_PER_MINUTE: '10',
      ORDER_RATE_LIMIT_PER_MINUTE: String(ORDER_WRITES),
      MAX_OPEN_ORDERS: String(OPEN_ORDERS),
      // Long enough for a payment never to expire an order during the suite.
      ORDER_PAYMENT_TIMEOUT: '10m',
    });
  });

  afterAll(async () => {
    await system?.stop();
  });

  const register = async (from = '127.0.0.1') => {
    const email = `sec-${randomUUID().slice(0, 8)}@example.com`;
    expect(
      (
        await postFrom(from, system.url('orders', '/users'), {
          email,
          name: 'Sec',
          password: PASSWORD,
        })
      ).status,
    ).toBe(201);
    return email;
  };
  const tokenOf = async (email: string, from: string) =>
    (
      (await postFrom(from, system.url('orders', '/auth/token'), { email, password: PASSWORD }))
        .body as { accessToken: string }
    ).accessToken;

  describe('internal endpoints authenticate their caller', () => {
    it.each([
      ['users', 'POST', '/internal/authenticate'],
      ['users', 'POST', '/internal/register'],
      ['inventory', 'GET', '/stock'],
      ['email', 'GET', '/emails?to=a@example.com'],
    ] as const)(
      '%s %s %s answers 401 without the internal token',
      async (service, method, path) => {
        const body = method === 'POST' ? { email: 'a@example.com', password: PASSWORD } : undefined;
        const anonymous = await call(system.url(service, path), { method, body });
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
        const forged = await call(system.url(service, path), {
          method,
          body,
          token: `${INTERNAL_TOKEN.slice(0, -1)}X`,
        });
        expect(forged.status).toBe(401);
      },
    );

    it('answers the internal token, and /emails wants the recipient', async () => {
      expect(
        (await call(system.url('inventory', '/stock'), { token: INTERNAL_TOKEN })).status,
      ).toBe(200);
      const all = await call(system.url('email', '/emails'), { token: INTERNAL_TOKEN });
      expect(all.status).toBe(400);
      expect((all.body as { message: string }).message).toContain('to is required');
      const one = await call(system.url('email', '/emails?to=a@example.com'), {
        token: INTERNAL_TOKEN,
      });
      expect(one.status).toBe(200);
    });

    it('still registers and signs in through the gateway, which presents the token', async () => {
      const email = await register('127.0.0.2');
      expect(await tokenOf(email, '127.0.0.2')).toEqual(expect.any(String));
    });
  });

  describe('sign-in limits', () => {
    it('cannot be bypassed with a new X-Forwarded-For per call', async () => {
      const email = await register('127.0.0.3');
      const statuses: number[] = [];
      let limited: Headers | undefined;
      for (let i = 0; i < 14; i += 1) {
        const answer = await call(system.url('orders', '/auth/token'), {
          body: { email, password: 'wrong password' },
          headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
        });
        statuses.push(answer.status);
        if (answer.status === 429) limited ??= answer.headers;
      }
      expect(statuses).toContain(429);
      expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
      expect(Number(limited!.get('retry-after'))).toBeGreaterThan(0);
      expect(limited!.get('ratelimit-limit')).toEqual(expect.any(String));
      expect(limited!.get('ratelimit-remaining')).toBe('0');
      expect(limited!.get('ratelimit-policy')).toContain(';w=60');
    });

    it('do not let an attacker lock a user out', async () => {
      const victim = await register('127.0.0.4');
      let attackerLimited = false;
      for (let i = 0; i < 8 && !attackerLimited; i += 1) {
        const answer = await postFrom('127.0.0.5', system.url('orders', '/auth/token'), {
          email: victim,
          password: `guess ${i}`,
        });
        attackerLimited = answer.status === 429;
      }
      expect(attackerLimited).toBe(true);
      const own = await postFrom('127.0.0.4', system.url('orders', '/auth/token'), {
        email: victim,
        password: PASSWORD,
      });
      expect(own.status).toBe(200);
    });

    it('are counted in the database the replicas share', async () => {
      const rows = await queryOn<{ key: string }>(
        system.databases.orders.url,
        `SELECT key FROM rate_limits WHERE key LIKE 'account:%|127.0.0.5'`,
      );
      expect(rows.length).toBeGreaterThan(0);
    });

    it('also bound password checks on users itself', async () => {
      const email = await register('127.0.0.6');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i += 1)
        statuses.push(
          (
            await call(system.url('users', '/internal/authenticate'), {
              token: INTERNAL_TOKEN,
              body: { email, password: `guess ${i}` },
            })
          ).status,
        );
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.at(-1)).toBe(429);
    });
  });

  describe('input', () => {
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

    it('refuses deeply nested JSON with 400, on /users and on /orders', async () => {
      const email = await register('127.0.0.7');
      const token = await tokenOf(email, '127.0.0.7');
      const users = await postFrom(
        '127.0.0.7',
        system.url('orders', '/users'),
        `{"email":"x@example.com","name":${deep(5000)},"password":"long enough"}`,
      );
      expect(users.status).toBe(400);
      expect((users.body as { message: string }).message).toContain('nested deeper');
      const orders = await call(system.url('orders', '/orders'), {
        token,
        raw: `{"items":${deep(5000)}}`,
      });
      expect(orders.status).toBe(400);
    });

    it.each([
      ['a line break in the name', { name: 'Ada\nYour account is suspended' }],
      ['a NUL byte in the name', { name: 'Ada\u0000' }],
      ['a blank name', { name: '   ' }],
      ['a quoted email with CR LF', { email: '"a\r\nb"@example.com' }],
      ['a quoted email with a comma', { email: '"a,b"@example.com' }],
    ])('answers 400 to a registration with %s', async (_label, change) => {
      const answer = await postFrom('127.0.0.8', system.url('orders', '/users'), {
        email: `in-${randomUUID().slice(0, 8)}@example.com`,
        name: 'Ada',
        password: PASSWORD,
        ...change,
      });
      expect(answer.status).toBe(400);
    });

    it('answers 400 to an order-list cursor with a date that does not exist', async () => {
      const token = await tokenOf(await register('127.0.0.9'), '127.0.0.9');
      const cursor = Buffer.from(JSON.stringify(['2020-02-30T00:00:00Z', randomUUID()])).toString(
        'base64url',
      );
      const answer = await call(system.url('orders', `/orders?cursor=${cursor}`), { token });
      expect(answer.status).toBe(400);
    });

    it('answers 401 with WWW-Authenticate to a signed token whose sub is not a UUID', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = signJwt(
        { sub: "1' OR '1'='1", iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 60 },
        keys.privateKey,
      );
      const answer = await call(system.url('orders', '/orders'), { token });
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toContain('Bearer');
    });
  });

  describe('order writes', () => {
    it(`cap a user's open orders at MAX_OPEN_ORDERS, then their writes per minute`, async () => {
      const token = await tokenOf(await register('127.0.0.10'), '127.0.0.10');
      const place = () =>
        call(system.url('orders', '/orders'), {
          token,
          body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
        });
      const placed: string[] = [];
      for (let i = 0; i < OPEN_ORDERS; i += 1) {
        const answer = await place();
        expect(answer.status).toBe(202);
        placed.push((answer.body as { orderId: string }).orderId);
      }
      const capped = await place();
      expect(capped.status).toBe(429);
      expect((capped.body as { message: string }).message).toContain('open orders');
      // Cancelling one frees a place.
      expect(
        (await call(system.url('orders', `/orders/${placed[0]}/cancel`), { token, method: 'POST' }))
          .status,
      ).toBe(202);
      expect((await place()).status).toBe(202);
      // OPEN_ORDERS + 3 writes so far; the rest of the minute's budget, then 429.
      const statuses: number[] = [];
      for (let i = 0; i < ORDER_WRITES; i += 1)
        statuses.push(
          (
            await call(system.url('orders', `/orders/${placed[1]}/cancel`), {
              token,
              method: 'POST',
            })
          ).status,
        );
      expect(statuses.at(-1)).toBe(429);
    });
  });

  describe('HTTP keep-alive', () => {
    it('keeps an idle connection open past Node’s 5 s default', async () => {
      const socket = connect(system.ports.orders, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = '';
      let closed = false;
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => (closed = true));
      const ask = () =>
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      ask();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received).toContain('HTTP/1.1 200');
      received = '';
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      expect(closed).toBe(false);
      ask();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received).toContain('HTTP/1.1 200');
      socket.destroy();
    });
  });
});
