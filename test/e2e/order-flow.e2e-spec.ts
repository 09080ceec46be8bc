import { createEvent } from '@app/events';
import { waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib from 'amqplib';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { type ExportedSpan, OTLP_KIND, OtlpSink } from '../support/otlp.js';
import { call, System } from './system.js';

interface Order {
  orderId: string;
  userId: string;
  status: string;
  totalCents: number;
  items: { sku: string; quantity: number; unitPriceCents: number }[];
}

describe('The four services end to end', () => {
  let system: System;
  let collector: OtlpSink;

  beforeAll(async () => {
    collector = await OtlpSink.start();
    system = await System.start({
      ORDER_PAYMENT_TIMEOUT: '4s',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    });
  });

  afterAll(async () => {
    await system?.stop();
    await collector?.close();
  });

  const gateway = (path: string) => system.url('orders', path);
  const signUp = async (name = 'Ada') => {
    const email = `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
    const registered = await call(gateway('/users'), {
      body: { email, name, password: 'correct horse battery' },
    });
    expect(registered.status).toBe(201);
    const token = await call(gateway('/auth/token'), {
      body: { email, password: 'correct horse battery' },
    });
    expect(token.status).toBe(200);
    return {
      email,
      userId: (registered.body as { id: string }).id,
      token: (token.body as { accessToken: string }).accessToken,
    };
  };
  const place = async (token: string, items: { sku: string; quantity: number }[]) => {
    const response = await call(gateway('/orders'), { body: { items }, token });
    expect(response.status).toBe(202);
    return (response.body as { orderId: string }).orderId;
  };
  const order = async (token: string, orderId: string) =>
    (await call(gateway(`/orders/${orderId}`), { token })).body as Order;
  const until = (token: string, orderId: string, status: string) =>
    waitFor(`order ${orderId} to be ${status}`, async () => {
      const current = await order(token, orderId);
      return current.status === status ? current : undefined;
    });
  const stock = async (sku: string) => {
    const levels = (await call(system.url('inventory', '/stock'))).body as {
      sku: string;
      onHand: number;
      reserved: number;
      available: number;
    }[];
    return levels.find((level) => level.sku === sku)!;
  };
  const mailsTo = (email: string) =>
    system.smtp.mails.filter((mail) => mail.to.includes(email.toLowerCase()));

  it('walks register -> token -> order -> CONFIRMED -> pay -> PAID, with three emails', async () => {
    const { email, token, userId } = await signUp('Ada');
    const before = await stock('KEYBOARD-MX');
    const orderId = await place(token, [{ sku: 'KEYBOARD-MX', quantity: 2 }]);
    const confirmed = await until(token, orderId, 'CONFIRMED');
    expect(confirmed).toMatchObject({ userId, totalCents: 17_800, currency: 'EUR' });
    expect((await stock('KEYBOARD-MX')).reserved).toBe(before.reserved + 2);

    expect(
      (await call(gateway(`/orders/${orderId}/payments`), { token, body: { amountCents: 1 } }))
        .status,
    ).toBe(422);
    expect(
      (await call(gateway(`/orders/${orderId}/payments`), { token, body: { amountCents: 17_800 } }))
        .status,
    ).toBe(202);
    await until(token, orderId, 'PAID');
    await waitFor(
      'the sale',
      async () => (await stock('KEYBOARD-MX')).onHand === before.onHand - 2,
    );

    const events = (await call(gateway(`/orders/${orderId}/events`), { token })).body as {
      type: string;
      sequence: number;
    }[];
    expect(events.map((e) => [e.sequence, e.type])).toEqual([
      [1, 'order.placed'],
      [2, 'order.confirmed'],
      [3, 'payment.processed'],
    ]);
    const mails = await waitFor('three emails', () =>
      mailsTo(email).length >= 3 ? mailsTo(email) : undefined,
    );
    expect(mails.map((m) => m.subject).sort()).toEqual(
      [
        'Welcome to Commerce',
        `Order ${orderId.slice(0, 8)} confirmed`,
        `Payment received for order ${orderId.slice(0, 8)}`,
      ].sort(),
    );
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(3);
    expect(mails.every((m) => /^<[0-9a-f-]{36}\.[a-z-]+@commerce\.local>$/.test(m.messageId))).toBe(
      true,
    );
    const log = (await call(system.url('email', `/emails?to=${encodeURIComponent(email)}`)))
      .body as { template: string }[];
    expect(log.map((entry) => entry.template)).toEqual([
      'payment-received',
      'order-confirmed',
      'welcome',
    ]);
  });

  it('rejects an order inventory cannot fill, and says so by email', async () => {
    const { email, token } = await signUp('Grace');
    const orderId = await place(token, [
      { sku: 'CABLE-USBC', quantity: 1 },
      { sku: 'MONITOR-27', quantity: 1000 },
    ]);
    await until(token, orderId, 'REJECTED');
    const mail = await waitFor('the rejection email', () =>
      mailsTo(email).find((m) => m.subject.includes('could not be completed')),
    );
    expect(mail.raw).toContain('MONITOR-27');
    expect((await stock('CABLE-USBC')).reserved).toBe(0);
  });

  it('cancels a confirmed order and releases its stock', async () => {
    const { token } = await signUp('Linus');
    const before = await stock('HEADPHONES-NC');
    const orderId = await place(token, [{ sku: 'HEADPHONES-NC', quantity: 3 }]);
    await until(token, orderId, 'CONFIRMED');
    expect((await stock('HEADPHONES-NC')).reserved).toBe(before.reserved + 3);
    expect(
      (await call(gateway(`/orders/${orderId}/cancel`), { token, method: 'POST' })).status,
    ).toBe(202);
    await until(token, orderId, 'CANCELLED');
    await waitFor(
      'the release',
      async () => (await stock('HEADPHONES-NC')).reserved === before.reserved,
    );
    expect(
      (await call(gateway(`/orders/${orderId}/cancel`), { token, method: 'POST' })).status,
    ).toBe(409);
    expect(
      (await call(gateway(`/orders/${orderId}/payments`), { token, body: { amountCents: 38_700 } }))
        .status,
    ).toBe(409);
  });

  it('cancels a confirmed order left unpaid past ORDER_PAYMENT_TIMEOUT', async () => {
    const { email, token } = await signUp('Barbara');
    const orderId = await place(token, [{ sku: 'MOUSE-WL', quantity: 1 }]);
    await until(token, orderId, 'CONFIRMED');
    await waitFor(
      'the payment timeout',
      async () => (await order(token, orderId)).status === 'CANCELLED',
      { timeoutMs: 20_000 },
    );
    const events = (await call(gateway(`/orders/${orderId}/events`), { token })).body as {
      type: string;
      data: { reason?: string };
    }[];
    expect(events.at(-1)).toMatchObject({
      type: 'order.cancelled',
      data: { reason: 'payment-timeout' },
    });
    await waitFor('the cancellation email', () =>
      mailsTo(email).find((m) => m.subject.includes('cancelled')),
    );
  });

  it("answers 404 for another user's order, and for a malformed id", async () => {
    const alice = await signUp('Alice');
    const mallory = await signUp('Mallory');
    const orderId = await place(alice.token, [{ sku: 'CABLE-USBC', quantity: 1 }]);
    for (const path of [`/orders/${orderId}`, `/orders/${orderId}/events`]) {
      expect((await call(gateway(path), { token: mallory.token })).status).toBe(404);
    }
    expect(
      (await call(gateway(`/orders/${orderId}/cancel`), { token: mallory.token, method: 'POST' }))
        .status,
    ).toBe(404);
    expect(
      (
        await call(gateway(`/orders/${orderId}/payments`), {
          token: mallory.token,
          body: { amountCents: 990 },
        })
      ).status,
    ).toBe(404);
    expect((await call(gateway('/orders/not-a-uuid'), { token: mallory.token })).status).toBe(404);
    const own = (await call(gateway('/orders'), { token: mallory.token })).body as {
      items: unknown[];
    };
    expect(own.items).toEqual([]);
  });

  it('reserves exactly the last 10 units for 20 concurrent orders, never going negative', async () => {
    const buyers = await Promise.all(Array.from({ length: 4 }, (_, i) => signUp(`Racer${i}`)));
    const before = await stock('LAMP-LTD');
    expect(before.available).toBe(10);
    const orderIds = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        place(buyers[i % buyers.length]!.token, [{ sku: 'LAMP-LTD', quantity: 1 }]),
      ),
    );
    const final = await waitFor('every order to settle', async () => {
      const statuses = await Promise.all(
        orderIds.map(async (id, i) => (await order(buyers[i % buyers.length]!.token, id)).status),
      );
      return statuses.every((s) => s !== 'PENDING') ? statuses : undefined;
    });
    expect(final.filter((s) => s === 'CONFIRMED')).toHaveLength(10);
    expect(final.filter((s) => s === 'REJECTED')).toHaveLength(10);
    expect(await stock('LAMP-LTD')).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
  });

  it('records an order.cancelled delivered before its order.placed, and then reserves nothing', async () => {
    const connection = await amqplib.connect(system.vhost.url);
    const channel = await connection.createConfirmChannel();
    const orderId = randomUUID();
    const userId = randomUUID();
    const cancelled = createEvent(
      'order.cancelled',
      { orderId, userId, reason: 'customer' },
      { source: 'orders', subject: orderId, streamVersion: 2 },
    );
    const placed = createEvent(
      'order.placed',
      {
        orderId,
        userId,
        items: [{ sku: 'MONITOR-27', quantity: 2, unitPriceCents: 24_900 }],
        totalCents: 49_800,
        currency: 'EUR',
      },
      { source: 'orders', subject: orderId, streamVersion: 1 },
    );
    const before = await stock('MONITOR-27');
    for (const event of [cancelled, placed]) {
      channel.publish('orders.events', event.type, Buffer.from(JSON.stringify(event)), {
        persistent: true,
        messageId: event.id,
        type: event.type,
        contentType: 'application/cloudevents+json',
      });
      await channel.waitForConfirms();
    }
    await connection.close();
    const inventory = new pg.Client({ connectionString: system.databases.inventory.url });
    await inventory.connect();
    try {
      await waitFor('both events handled', async () => {
        const { rows } = await inventory.query<{ n: string }>(
          `SELECT count(*) AS n FROM messaging_inbox WHERE event_id = ANY($1)`,
          [[cancelled.id, placed.id]],
        );
        return Number(rows[0]!.n) === 2;
      });
      const { rows } = await inventory.query<{ status: string }>(
        `SELECT status FROM reservations WHERE order_id = $1`,
        [orderId],
      );
      expect(rows[0]?.status).toBe('CANCELLED');
    } finally {
      await inventory.end();
    }
    expect(await stock('MONITOR-27')).toEqual(before);
  });

  it('follows one order through the logs of every service by its correlation id', async () => {
    const { token } = await signUp('Trace');
    const correlationId = `trace-${randomUUID().slice(0, 8)}`;
    const response = await call(gateway('/orders'), {
      token,
      body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
      headers: { 'x-correlation-id': correlationId },
    });
    expect(response.headers.get('x-correlation-id')).toBe(correlationId);
    await until(token, (response.body as { orderId: string }).orderId, 'CONFIRMED');
    await waitFor('log lines of orders, inventory and email', () => {
      const services = new Set(
        system.logs
          .filter((line) => line.includes(`"correlationId":"${correlationId}"`))
          .map((line) => /^\[(\w+)\]/.exec(line)?.[1]),
      );
      return ['orders', 'inventory', 'email'].every((s) => services.has(s));
    });
    expect(system.logs.some((line) => /correct horse|password_hash|"password"/.test(line))).toBe(
      false,
    );
  });

  it('exports each request as one trace across the processes, continuing the caller traceparent', async () => {
    const traceparent = () => {
      const traceId = randomBytes(16).toString('hex');
      const spanId = randomBytes(8).toString('hex');
      return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
    };
    const signUpTrace = traceparent();
    const email = `otel-${randomUUID().slice(0, 8)}@example.com`;
    const registered = await call(gateway('/users'), {
      body: { email, name: 'Otel', password: 'correct horse battery' },
      headers: { traceparent: signUpTrace.header },
    });
    expect(registered.status).toBe(201);
    const token = (
      (
        await call(gateway('/auth/token'), {
          body: { email, password: 'correct horse battery' },
        })
      ).body as { accessToken: string }
    ).accessToken;
    const orderTrace = traceparent();
    const placed = await call(gateway('/orders'), {
      token,
      body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
      headers: { traceparent: orderTrace.header },
    });
    expect(placed.status).toBe(202);

    // Each service exports in batches, every 5 s and on its own timer: wait for every span.
    const span = (traceId: string, service: string, kind: number, name: string) =>
      collector
        .trace(traceId)
        .find((s) => s.service === service && s.kind === kind && s.name === name);
    const spanOf = (traceId: string, service: string, kind: number, name: string): ExportedSpan => {
      const found = span(traceId, service, kind, name);
      if (!found) {
        const seen = collector.trace(traceId).map((s) => `${s.service} ${s.kind} ${s.name}`);
        throw new Error(`no ${service} span "${name}" (kind ${kind}) in ${seen.join('; ')}`);
      }
      return found;
    };
    type SpanKey = [service: string, kind: number, name: string];
    const { SERVER, CLIENT, PRODUCER, CONSUMER } = OTLP_KIND;
    // Each span with its parent: the caller's span, or another span.
    const links: [trace: typeof signUpTrace, child: SpanKey, parent: SpanKey | 'caller'][] = [
      // Registration: gateway -> users over HTTP -> email over the broker.
      [signUpTrace, ['orders', SERVER, 'POST /users'], 'caller'],
      [
        signUpTrace,
        ['orders', CLIENT, 'POST /internal/register'],
        ['orders', SERVER, 'POST /users'],
      ],
      [
        signUpTrace,
        ['users', SERVER, 'POST /internal/register'],
        ['orders', CLIENT, 'POST /internal/register'],
      ],
      [
        signUpTrace,
        ['email', CONSUMER, 'email.user.registered process'],
        ['users', PRODUCER, 'user.registered publish'],
      ],
      // The order: gateway -> inventory -> the gateway's saga -> email, over the broker.
      [orderTrace, ['orders', SERVER, 'POST /orders'], 'caller'],
      [
        orderTrace,
        ['inventory', CONSUMER, 'inventory.order.placed process'],
        ['orders', PRODUCER, 'order.placed publish'],
      ],
      [
        orderTrace,
        ['orders', CONSUMER, 'orders.inventory.reserved process'],
        ['inventory', PRODUCER, 'inventory.reserved publish'],
      ],
      [
        orderTrace,
        ['email', CONSUMER, 'email.order.confirmed process'],
        ['orders', PRODUCER, 'order.confirmed publish'],
      ],
    ];
    const expected = links.flatMap(([trace, child, parent]) =>
      [child, ...(parent === 'caller' ? [] : [parent])].map(
        (key) => [trace.traceId, ...key] as [string, string, number, string],
      ),
    );
    await waitFor('every span of both traces', () => expected.every((args) => span(...args)), {
      timeoutMs: 30_000,
      intervalMs: 200,
    }).catch(() => expected.forEach((args) => spanOf(...args))); // names the missing one
    for (const [trace, child, parent] of links) {
      const parentId = parent === 'caller' ? trace.spanId : spanOf(trace.traceId, ...parent).spanId;
      expect([child[2], spanOf(trace.traceId, ...child).parentSpanId]).toEqual([
        child[2],
        parentId,
      ]);
    }
    expect(collector.rejected).toEqual([]);

    // The log lines written along the way name the trace, in every service it crossed.
    await waitFor('log lines with the trace id', () => {
      const services = new Set(
        system.logs
          .filter((line) => line.includes(`"trace_id":"${orderTrace.traceId}"`))
          .map((line) => /^\[(\w+)\]/.exec(line)?.[1]),
      );
      return ['orders', 'inventory', 'email'].every((s) => services.has(s));
    });
  });

  describe('bad input', () => {
    const expectError = (response: { status: number; body: unknown }, status: number) => {
      expect([response.status, response.body]).toEqual([
        status,
        expect.objectContaining({
          statusCode: status,
          error: expect.any(String),
          message: expect.any(String),
        }),
      ]);
    };

    it('answers POST /users and POST /auth/token with 400, 401, 409 and 413, never 5xx', async () => {
      const { email } = await signUp('Taken');
      const cases: [unknown, number][] = [
        [undefined, 400],
        [{ email: 'not-an-email', name: 'X', password: 'long enough pw' }, 400],
        [{ email: 'x@example.com', name: 'X', password: 'short' }, 400],
        [{ email: 'x@example.com', name: '', password: 'long enough pw' }, 400],
        [{ email: 'x@example.com', name: 'X', password: 'long enough pw', admin: true }, 400],
        [{ email: 42, name: ['X'], password: null }, 400],
        [{ email: email.toUpperCase(), name: 'Again', password: 'long enough pw' }, 409],
      ];
      for (const [body, status] of cases)
        expectError(await call(gateway('/users'), { method: 'POST', body }), status);
      expectError(await call(gateway('/users'), { raw: '{"email": "a@b.c", ' }), 400);
      expectError(
        await call(gateway('/users'), {
          raw: JSON.stringify({
            email: 'a@b.c',
            name: 'x'.repeat(70_000),
            password: 'long enough pw',
          }),
        }),
        413,
      );
      expectError(
        await call(gateway('/auth/token'), { body: { email, password: 'wrong password' } }),
        401,
      );
      expectError(
        await call(gateway('/auth/token'), {
          body: { email: 'nobody@example.com', password: 'whatever1' },
        }),
        401,
      );
      expectError(await call(gateway('/auth/token'), { body: { email } }), 400);
    });

    it('answers the order endpoints in the order 401 -> 400 -> 404 -> 409 -> 422', async () => {
      const { token } = await signUp('Checker');
      const forged = `${token.split('.').slice(0, 2).join('.')}.${Buffer.from('x'.repeat(64)).toString('base64url')}`;
      expectError(await call(gateway('/orders'), { body: { items: [] } }), 401);
      expectError(await call(gateway('/orders'), { body: { items: [] }, token: 'garbage' }), 401);
      expectError(
        await call(gateway('/orders'), {
          body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
          token: forged,
        }),
        401,
      );
      expectError(await call(gateway('/orders'), { token, method: 'POST' }), 400);
      for (const body of [
        { items: [] },
        { items: [{ sku: 'CABLE-USBC', quantity: 0 }] },
        { items: [{ sku: 'CABLE-USBC', quantity: '1' }] },
        { items: [{ sku: 'CABLE-USBC', quantity: 1.5 }] },
        { items: [{ sku: 'CABLE USBC', quantity: 1 }] },
        { items: [{ sku: 'CABLE-USBC', quantity: 1, unitPriceCents: 1 }] },
        { items: [{ sku: 'CABLE-USBC', quantity: 1 }], userId: randomUUID() },
        { items: 'CABLE-USBC' },
      ]) {
        expectError(await call(gateway('/orders'), { body, token }), 400);
      }
      expectError(
        await call(gateway('/orders'), {
          body: { items: [{ sku: 'NO-SUCH-SKU', quantity: 1 }] },
          token,
        }),
        422,
      );

      const key = `key-${randomUUID()}`;
      const first = await call(gateway('/orders'), {
        body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
        token,
        headers: { 'Idempotency-Key': key },
      });
      const again = await call(gateway('/orders'), {
        body: { items: [{ sku: 'CABLE-USBC', quantity: 1 }] },
        token,
        headers: { 'Idempotency-Key': key },
      });
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect((again.body as { orderId: string }).orderId).toBe(
        (first.body as { orderId: string }).orderId,
      );
      expectError(
        await call(gateway('/orders'), {
          body: { items: [{ sku: 'CABLE-USBC', quantity: 2 }] },
          token,
          headers: { 'Idempotency-Key': key },
        }),
        409,
      );
      const orderId = (first.body as { orderId: string }).orderId;
      await until(token, orderId, 'CONFIRMED');

      expectError(
        await call(gateway(`/orders/${orderId}/payments`), { body: { amountCents: 'all' }, token }),
        400,
      );
      expectError(
        await call(gateway(`/orders/${randomUUID()}/payments`), {
          body: { amountCents: 'all' },
          token,
        }),
        400,
      );
      expectError(
        await call(gateway(`/orders/${randomUUID()}/payments`), {
          body: { amountCents: 990 },
          token,
        }),
        404,
      );
      expectError(
        await call(gateway(`/orders/${orderId}/payments`), { body: { amountCents: 991 }, token }),
        422,
      );
      expect(
        (await call(gateway(`/orders/${orderId}/payments`), { body: { amountCents: 990 }, token }))
          .status,
      ).toBe(202);
      await until(token, orderId, 'PAID');
      expectError(
        await call(gateway(`/orders/${orderId}/payments`), { body: { amountCents: 991 }, token }),
        409,
      );
      expectError(await call(gateway(`/orders/${orderId}/cancel`), { token, method: 'POST' }), 409);
      expectError(
        await call(gateway(`/orders/${randomUUID()}/cancel`), { token, method: 'POST' }),
        404,
      );
      expectError(await call(gateway(`/orders/${randomUUID()}/events`), { token }), 404);
      for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=garbage', 'cursor=W10']) {
        expectError(await call(gateway(`/orders?${query}`), { token }), 400);
      }
    });

    it('pages GET /orders newest first with a cursor', async () => {
      const { token } = await signUp('Pager');
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1)
        ids.push(await place(token, [{ sku: 'CABLE-USBC', quantity: 1 }]));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = (
          await call(gateway(`/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`), { token })
        ).body as {
          items: { orderId: string }[];
          nextCursor: string | null;
        };
        seen.push(...page.items.map((item) => item.orderId));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    });

    it('echoes a valid x-correlation-id, replaces an invalid one, and serves /docs', async () => {
      const valid = await call(gateway('/products'), {
        headers: { 'x-correlation-id': 'abc_DEF-123' },
      });
      expect(valid.headers.get('x-correlation-id')).toBe('abc_DEF-123');
      const invalid = await call(gateway('/products'), {
        headers: { 'x-correlation-id': 'no spaces allowed!' },
      });
      expect(invalid.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect((await call(gateway('/docs'))).status).toBe(200);
      expect((await call(gateway('/health/live'))).status).toBe(200);
      expect((await call(gateway('/metrics'))).status).toBe(404);
      const metrics = await call(`http://127.0.0.1:${system.opsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(String(metrics.body)).toContain('messaging_events_published_total');
      expect(String(metrics.body)).toContain('http_request_duration_seconds');
    });
  });
});
