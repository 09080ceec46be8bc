import { MessagingService } from '@app/messaging';
import { generateJwtKeyPair, JWT_AUDIENCE, JWT_ISSUER, signJwt, startTracing } from '@app/platform';
import {
  createTestDatabase,
  createTestVhost,
  type RunningServiceApp,
  startServiceApp,
  type TestDatabase,
  type TestVhost,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import { randomUUID } from 'node:crypto';
import { InventoryModule } from '../../apps/inventory/src/inventory.module.js';
import { ORDER_ERROR_STATUS } from '../../apps/orders/src/http/order-error-status.js';
import { OrdersModule } from '../../apps/orders/src/orders.module.js';

const exporter = new InMemorySpanExporter();
await startTracing('trace-test', [new SimpleSpanProcessor({ exporter })]);

const parentOf = (span: ReadableSpan) =>
  (span as ReadableSpan & { parentSpanContext?: { spanId: string } }).parentSpanContext?.spanId;

describe('one trace from POST /orders to the order confirmation', () => {
  let vhost: TestVhost;
  let ordersDb: TestDatabase;
  let inventoryDb: TestDatabase;
  let orders: RunningServiceApp;
  let inventory: RunningServiceApp;
  const keys = generateJwtKeyPair();

  beforeAll(async () => {
    vhost = await createTestVhost('trace');
    ordersDb = await createTestDatabase('trace_orders');
    inventoryDb = await createTestDatabase('trace_inventory');
    const shared = { AMQP_URL: vhost.url, RETRY_DELAYS: '100ms' };
    inventory = await startServiceApp('inventory', (c) => InventoryModule.forRoot(c), {
      ...shared,
      DATABASE_URL: inventoryDb.url,
    });
    orders = await startServiceApp(
      'orders',
      (c) => OrdersModule.forRoot(c),
      { ...shared, DATABASE_URL: ordersDb.url, JWT_PUBLIC_KEY: keys.publicKey },
      ORDER_ERROR_STATUS,
    );
    await waitFor(
      'the catalog',
      async () => ((await (await fetch(orders.url('/products'))).json()) as unknown[]).length === 6,
    );
    // inventory binds its queues once orders has declared orders.events (it only checks that
    // exchange): until then an order.placed would be returned and published again later.
    await waitFor('inventory to consume', () =>
      inventory.app.get(MessagingService).isBrokerReady(),
    );
  });

  afterAll(async () => {
    await orders?.close();
    await inventory?.close();
    await vhost?.dispose();
    await ordersDb?.dispose();
    await inventoryDb?.dispose();
  });

  it('links the HTTP request, the outbox publish, inventory, and the saga in one trace', async () => {
    exporter.reset();
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      { sub: randomUUID(), iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 600 },
      keys.privateKey,
    );
    const response = await fetch(orders.url('/orders'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'KEYBOARD-MX', quantity: 1 }] }),
    });
    expect(response.status).toBe(202);
    const spans = await waitFor('the confirmation to be published', () => {
      const finished = exporter.getFinishedSpans();
      return finished.some((s) => s.name === 'order.confirmed publish') ? finished : undefined;
    });
    const http = spans.find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /orders');
    expect(http).toBeDefined();
    const traceId = http!.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const named = (name: string) => {
      const span = inTrace.find((s) => s.name === name);
      if (!span)
        throw new Error(
          `no span "${name}" in the trace; it has: ${inTrace.map((s) => s.name).join(', ')}`,
        );
      return span;
    };
    const placed = named('order.placed publish');
    const consumed = named('inventory.order.placed process');
    const reserve = named('inventory:reserve-stock');
    const reserved = named('inventory.reserved publish');
    const saga = named('orders.inventory.reserved process');
    named('orders:saga-stock-reserved');
    named('order.confirmed publish');

    expect(placed.kind).toBe(SpanKind.PRODUCER);
    expect(consumed.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(consumed)).toBe(placed.spanContext().spanId);
    expect(parentOf(reserve)).toBe(consumed.spanContext().spanId);
    expect(parentOf(reserved)).toBe(reserve.spanContext().spanId);
    expect(parentOf(saga)).toBe(reserved.spanContext().spanId);
    expect(consumed.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'inventory.order.placed',
    });
    expect(placed.attributes).toMatchObject({
      'messaging.destination.name': 'orders.events',
      'messaging.rabbitmq.destination.routing_key': 'order.placed',
    });
  });
});
