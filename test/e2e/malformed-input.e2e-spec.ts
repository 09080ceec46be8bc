import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { call, System } from './system.js';
import { prng } from '../support/prng.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1200);

describe('the gateway under malformed input', () => {
  let system: System;
  let token: string;
  let orderId: string;

  beforeAll(async () => {
    system = await System.start({ RATE_LIMIT_PER_MINUTE: '100000' });
    const email = `fuzz-${randomUUID().slice(0, 8)}@example.com`;
    await call(system.url('orders', '/users'), {
      body: { email, name: 'Fuzz', password: 'correct horse battery' },
    });
    token = (
      (
        await call(system.url('orders', '/auth/token'), {
          body: { email, password: 'correct horse battery' },
        })
      ).body as {
        accessToken: string;
      }
    ).accessToken;
    orderId = (
      (
        await call(system.url('orders', '/orders'), {
          token,
          body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
        })
      ).body as {
        orderId: string;
      }
    ).orderId;
  });

  afterAll(async () => {
    await system?.stop();
  });

  it(`answers ${REQUESTS} generated malformed requests without a 5xx and stays ready (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const junkValues: unknown[] = [
      null,
      true,
      -1,
      0,
      1.5,
      1e308,
      '',
      ' ',
      'x'.repeat(300),
      [],
      {},
      [1, 'a'],
      { $gt: '' },
      '<script>',
      '../../etc/passwd',
      '\u0000',
      '😀',
      'NaN',
    ];
    const junkObject = (): unknown => {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < 1 + Math.floor(random() * 4); i += 1) {
        object[
          pick([
            'email',
            'name',
            'password',
            'items',
            'amountCents',
            'sku',
            'quantity',
            '__proto__',
            'constructor',
            'userId',
            'extra',
          ])
        ] =
          random() < 0.3
            ? [{ sku: pick(junkValues), quantity: pick(junkValues) }]
            : pick(junkValues);
      }
      return object;
    };
    const forged = `${token.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`;
    const tokens = [
      undefined,
      token,
      'garbage',
      forged,
      `${token}x`,
      'a.b.c',
      'eyJhbGciOiJub25lIn0.e30.',
    ];
    const paths = [
      ['POST', '/users'],
      ['POST', '/auth/token'],
      ['GET', '/products'],
      ['POST', '/orders'],
      ['GET', '/orders'],
      ['GET', `/orders/${orderId}`],
      ['GET', `/orders/${orderId}/events`],
      ['POST', `/orders/${orderId}/payments`],
      ['POST', `/orders/${orderId}/cancel`],
      ['GET', '/orders/%00'],
      ['GET', `/orders?limit=${encodeURIComponent(String(pick(junkValues)))}&cursor=%ZZ`],
      ['POST', `/orders/${randomUUID()}/payments`],
    ] as const;
    const bodies = () =>
      pick([
        () => ({ raw: '{"unterminated": ' }),
        () => ({ raw: 'not json at all' }),
        () => ({ raw: JSON.stringify(junkObject()) }),
        () => ({ raw: JSON.stringify(pick(junkValues)) }),
        () => ({ raw: `{"items":[${'{"sku":"A","quantity":1},'.repeat(3000)}{}]}` }),
        () => ({
          raw: JSON.stringify({
            email: 'a@b.c',
            name: 'x'.repeat(70_000),
            password: 'long enough',
          }),
        }),
        () => ({ raw: '[]'.repeat(1000) }),
      ])();

    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    for (let i = 0; i < REQUESTS; i += 1) {
      const [method, path] = pick(paths);
      const headers: Record<string, string> = {};
      if (random() < 0.2)
        headers['content-type'] = pick([
          'text/plain',
          'application/xml',
          'application/json; charset=latin1',
        ]);
      if (random() < 0.2) headers['x-correlation-id'] = pick(['ok-id', 'bad id!', 'x'.repeat(100)]);
      if (random() < 0.2) headers['idempotency-key'] = pick(['', 'k'.repeat(300), 'ok-key', '\t']);
      const response = await call(system.url('orders', path), {
        method,
        ...(method === 'POST' ? bodies() : {}),
        ...(pick(tokens) ? { token: pick(tokens)! } : {}),
        headers,
      }).catch((error: Error) => ({ status: 0, body: error.message, headers: new Headers() }));
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status >= 500 || response.status === 0)
        serverErrors.push(
          `${method} ${path} -> ${response.status} ${JSON.stringify(response.body)}`,
        );
      else if (response.status >= 400) {
        expect(response.body).toEqual(
          expect.objectContaining({
            statusCode: response.status,
            error: expect.any(String),
            message: expect.any(String),
          }),
        );
      }
    }
    console.log(`status codes: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(serverErrors).toEqual([]);
    expect((await call(system.url('orders', '/health/ready'))).status).toBe(200);
  });
});
