import { Parser } from '@asyncapi/parser';
import { EVENT_TYPES, EVENT_VERSION_HEADER, exchangeOf } from '@app/events';
import { waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../support/build.js';
import { runUsersCommand } from '../../apps/users/src/accounts/roles-command.js';
import { call, System } from './system.js';

interface Captured {
  routingKey: string;
  exchange: string;
  properties: amqplib.MessageProperties;
  body: Record<string, unknown>;
}

interface DocumentedMessage {
  payload: ValidateFunction;
  headers: ValidateFunction;
  attributes: string[];
  contentType: string;
}

// A consumer generated from libs/events/asyncapi.yaml must accept what the services send: the
// messages of a real system, captured from its exchanges, are checked against the document
// as @asyncapi/parser reads it, with Ajv. (Before, each payload was only the event's data,
// while the body is the whole CloudEvent: every captured body failed.)
describe('libs/events/asyncapi.yaml describes the wire', () => {
  let system: System;
  let connection: amqplib.ChannelModel;
  const captured: Captured[] = [];
  const documented = new Map<string, DocumentedMessage>();

  beforeAll(async () => {
    const { document, diagnostics } = await new Parser().parse(
      readFileSync(join(root, 'libs', 'events', 'asyncapi.yaml'), 'utf8'),
    );
    if (!document) throw new Error(diagnostics.map((d) => d.message).join('\n'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const message of document.components().messages()) {
      const payload = message.payload()!.json<{ properties: Record<string, unknown> }>();
      documented.set(message.id(), {
        payload: ajv.compile(payload),
        headers: ajv.compile(message.headers()!.json()),
        attributes: Object.keys(payload.properties),
        contentType: message.contentType()!,
      });
    }

    system = await System.start();
    // Bound once the services run, not before: a queue bound earlier would make the seed
    // catalog's mandatory product.added routable before orders has its queue, and orders
    // would never see it. Those were published at boot; they are read from the outbox below.
    connection = await amqplib.connect(system.vhost.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    for (const exchange of new Set(EVENT_TYPES.map(exchangeOf)))
      await channel.bindQueue(queue, exchange, '#');
    await channel.consume(queue, (message) => {
      if (!message) return;
      captured.push({
        routingKey: message.fields.routingKey,
        exchange: message.fields.exchange,
        properties: message.properties,
        body: JSON.parse(message.content.toString()) as Record<string, unknown>,
      });
      channel.ack(message);
    });
  });

  afterAll(async () => {
    await connection?.close();
    await system?.stop();
  });

  it('validates every body, header and property of a real order flow', () =>
    // A failure carries the services' last log lines: once (RabbitMQ 4, CI rehearsal of
    // 2026-12-04) the gateway refused connections mid-test, and nothing said why.
    withServiceLogs(system, async () => {
      const gateway = (path: string) => system.url('orders', path);
      const email = `wire-${randomUUID().slice(0, 8)}@example.com`;
      await call(gateway('/users'), { body: { email, name: 'Ada', password: 'correct horse' } });
      const token = (
        (await call(gateway('/auth/token'), { body: { email, password: 'correct horse' } }))
          .body as {
          accessToken: string;
        }
      ).accessToken;
      const order = async (quantity: number, sku = 'KEYBOARD-MX') =>
        (
          (await call(gateway('/orders'), { token, body: { items: [{ sku, quantity }] } }))
            .body as {
            orderId: string;
          }
        ).orderId;
      const statusOf = async (id: string) =>
        ((await call(gateway(`/orders/${id}`), { token })).body as { status: string }).status;

      const paid = await order(1);
      await waitFor('CONFIRMED', async () => (await statusOf(paid)) === 'CONFIRMED');
      await call(gateway(`/orders/${paid}/payments`), { token, body: { amountCents: 8_900 } });
      const cancelled = await order(1);
      await waitFor('CONFIRMED', async () => (await statusOf(cancelled)) === 'CONFIRMED');
      await call(gateway(`/orders/${cancelled}/cancel`), { token, method: 'POST' });
      await order(11, 'LAMP-LTD'); // more than its 10 units: reservation fails, order rejected
      // The catalog's administration: the same user, made an admin, adds a product with stock
      // (product.added, stock.adjusted), reprices it (product.updated), discontinues it.
      const granted = await runUsersCommand(
        ['grant-admin', email],
        { DATABASE_URL: system.databases.users.url },
        () => undefined,
      );
      if (granted !== 0) throw new Error(`grant-admin exited ${granted}`);
      const admin = (
        (await call(gateway('/auth/token'), { body: { email, password: 'correct horse' } }))
          .body as { accessToken: string }
      ).accessToken;
      const sku = `WIRE-${randomUUID().slice(0, 8)}`;
      const commands = [
        await call(gateway('/admin/products'), {
          token: admin,
          body: { sku, name: 'Wire desk', priceCents: 1_000, currency: 'EUR', initialStock: 3 },
        }),
        await call(gateway(`/admin/products/${sku}`), {
          method: 'PATCH',
          token: admin,
          body: { priceCents: 1_200 },
        }),
        await call(gateway(`/admin/products/${sku}/discontinue`), { method: 'POST', token: admin }),
      ];
      if (commands.some((answer) => answer.status >= 300))
        throw new Error(`an admin command failed: ${commands.map((a) => a.status).join(', ')}`);

      const live = EVENT_TYPES.filter((type) => type !== 'product.added');
      await waitFor('every event type on the wire', () =>
        live.every((type) => captured.some((message) => message.routingKey === type)),
      );
      // The seed catalog's events, as the relay sent them: the outbox row holds the body, and
      // the AMQP properties come from the same code as every event captured above.
      const inventory = new pg.Client({ connectionString: system.databases.inventory.url });
      await inventory.connect();
      const seeded = await inventory
        .query<{ payload: string }>(
          `SELECT payload FROM messaging_outbox WHERE type = 'product.added' AND sent_at IS NOT NULL`,
        )
        .finally(() => inventory.end());
      expect(seeded.rows.length).toBeGreaterThanOrEqual(6);

      const problems: string[] = [];
      for (const message of captured) {
        const { body, properties } = message;
        const where = `${message.routingKey} ${String(body.id)}`;
        const version = properties.headers?.[EVENT_VERSION_HEADER] as number;
        const spec = documented.get(`${message.routingKey}.v${version}`);
        if (!spec) {
          problems.push(`${where}: no message ${message.routingKey}.v${version} in the document`);
          continue;
        }
        if (!spec.payload(body))
          problems.push(`${where} body: ${JSON.stringify(spec.payload.errors)}`);
        if (!spec.headers(properties.headers))
          problems.push(`${where} headers: ${JSON.stringify(spec.headers.errors)}`);
        const undocumented = Object.keys(body).filter((key) => !spec.attributes.includes(key));
        if (undocumented.length) problems.push(`${where}: undocumented ${undocumented.join(', ')}`);
        const expected = {
          exchange: exchangeOf(message.routingKey as (typeof EVENT_TYPES)[number]),
          contentType: spec.contentType,
          contentEncoding: undefined,
          messageId: body.id,
          type: body.type,
          correlationId: body.correlationid,
          appId: body.source,
          deliveryMode: 2,
          timestamp: Math.floor(Date.parse(String(body.time)) / 1000),
        };
        const actual = {
          exchange: message.exchange,
          contentType: properties.contentType as unknown,
          contentEncoding: properties.contentEncoding as unknown,
          messageId: properties.messageId as unknown,
          type: properties.type as unknown,
          correlationId: properties.correlationId as unknown,
          appId: properties.appId as unknown,
          deliveryMode: properties.deliveryMode as unknown,
          timestamp: properties.timestamp as unknown,
        };
        if (JSON.stringify(actual) !== JSON.stringify(expected))
          problems.push(`${where} properties: ${JSON.stringify(actual)}`);
      }
      const productAdded = documented.get('product.added.v1')!;
      for (const { payload } of seeded.rows) {
        const body = JSON.parse(payload) as Record<string, unknown>;
        if (!productAdded.payload(body))
          problems.push(`product.added body: ${JSON.stringify(productAdded.payload.errors)}`);
      }
      expect(problems).toEqual([]);
      expect(captured.length).toBeGreaterThanOrEqual(live.length);
    }));
});

/** Runs `test`; if it fails, the error also shows the last lines the services logged. */
async function withServiceLogs(system: System, test: () => Promise<void>): Promise<void> {
  try {
    await test();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const logs = system.logs.slice(-60).join('\n');
    throw new Error(`${message}\n--- the services' last log lines ---\n${logs}`, { cause: error });
  }
}
