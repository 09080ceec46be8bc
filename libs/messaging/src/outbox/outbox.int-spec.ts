import { randomUUID } from 'node:crypto';
import { brokerAddress, management, SuiteFixture, TcpProxy, waitFor } from '@app/testing';
import amqplib from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { CapturingLogger, startService, type TestService } from '../../test/harness.js';
import { OUTBOX_AUTOVACUUM } from '../database/messaging-tables.migration.js';
import { Outbox } from './outbox.js';

interface OutboxRow {
  event_id: string;
  type: string;
  mandatory: boolean;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
}

describe('Outbox and relay against RabbitMQ and PostgreSQL', () => {
  let fixture: SuiteFixture;
  let proxy: TcpProxy;
  const running: TestService[] = [];

  const startOrders = async (amqpUrl = fixture.vhost.url, logger?: CapturingLogger) => {
    const service = await startService({
      service: 'orders',
      amqpUrl,
      databaseUrl: fixture.database.url,
      ...(logger ? { logger } : {}),
    });
    running.push(service);
    return service;
  };
  const rows = (service: TestService) =>
    service.dataSource.query<OutboxRow[]>(`SELECT * FROM messaging_outbox ORDER BY position`);
  const row = async (service: TestService, id: string) =>
    (await rows(service)).find((r) => r.event_id === id);

  const placeOrder = async (service: TestService) => {
    const outbox = service.app.get(Outbox);
    const orderId = randomUUID();
    return service.dataSource.transaction((manager) =>
      outbox.enqueue(
        manager,
        'order.placed',
        {
          orderId,
          userId: randomUUID(),
          items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 500 }],
          totalCents: 500,
          currency: 'EUR',
        },
        { subject: orderId, streamVersion: 1, correlationId: 'corr-outbox' },
      ),
    );
  };

  beforeAll(async () => {
    fixture = await SuiteFixture.create('outbox');
    const broker = brokerAddress();
    proxy = await TcpProxy.start(broker.host, broker.port);
  });

  afterEach(async () => {
    proxy.restore();
    while (running.length) await running.pop()!.close();
  });

  afterAll(async () => {
    await proxy?.close();
    await fixture?.dispose();
  });

  it('vacuums the outbox by dead-row count, not by a share of its size', async () => {
    const orders = await startOrders();
    const [table] = await orders.dataSource.query<{ reloptions: string[] | null }[]>(
      `SELECT reloptions FROM pg_class WHERE oid = 'messaging_outbox'::regclass`,
    );
    expect(table!.reloptions).toEqual(
      OUTBOX_AUTOVACUUM.map((setting) => setting.replace(' = ', '=')),
    );
  });

  it('refuses to enqueue outside a transaction', async () => {
    const orders = await startOrders();
    const outbox = orders.app.get(Outbox);
    await expect(
      outbox.enqueue(orders.dataSource.manager, 'order.confirmed', {
        orderId: randomUUID(),
        userId: randomUUID(),
        totalCents: 1,
        currency: 'EUR',
      }),
    ).rejects.toThrow('needs the EntityManager of an open transaction');
  });

  it('keeps a mandatory event nobody can receive pending, then publishes it once its queue exists', async () => {
    const logger = new CapturingLogger();
    const orders = await startOrders(fixture.vhost.url, logger);
    const event = await placeOrder(orders);
    const pending = await waitFor('a returned attempt', async () => {
      const current = await row(orders, event.id);
      return current && current.attempts >= 1 ? current : undefined;
    });
    expect(pending.sent_at).toBeNull();
    expect(pending.mandatory).toBe(true);
    expect(pending.last_error).toContain('no queue is bound for routing key "order.placed"');
    // A young event without a queue is the normal first boot (consumers not started yet):
    // info, not a warning. The same event a minute old is a warning.
    const notPublished = new RegExp(`Outbox event ${event.id} not published`);
    expect(logger.matching(notPublished, 'log')[0]).toContain('expected while its consumers start');
    expect(logger.matching(notPublished, 'warn')).toEqual([]);
    await orders.dataSource.query(
      `UPDATE messaging_outbox SET created_at = now() - interval '2 minutes', available_at = now()
        WHERE event_id = $1`,
      [event.id],
    );
    await waitFor('a warning', () => logger.matching(notPublished, 'warn')[0]);

    // The consumer's queue appears (as when inventory starts): the next attempt is delivered.
    await fixture.probe.channel.assertQueue('inventory.order.placed', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await fixture.probe.channel.bindQueue(
      'inventory.order.placed',
      'orders.events',
      'order.placed',
    );
    await waitFor('the event to be sent', async () => (await row(orders, event.id))?.sent_at, {
      timeoutMs: 30_000,
    });
    const [delivered] = await fixture.probe.drain('inventory.order.placed');
    expect(delivered?.properties).toMatchObject({
      messageId: event.id,
      type: 'order.placed',
      correlationId: 'corr-outbox',
      appId: 'orders',
      contentType: 'application/cloudevents+json',
      deliveryMode: 2,
      headers: { 'x-event-version': 2 },
    });
    expect(JSON.parse(delivered!.content.toString())).toEqual(event);
  });

  it('keeps an event the broker refuses (nack) pending, then publishes it once its queue has room', async () => {
    const queue = 'inventory.order.placed';
    const orders = await startOrders(); // declares orders.events
    await fixture.probe.channel.assertQueue(queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await fixture.probe.channel.bindQueue(queue, 'orders.events', 'order.placed');
    await fixture.probe.drain(queue);
    // A full queue that refuses publishes: RabbitMQ nacks them (a quorum queue's limit is soft,
    // so fill it until a publish is refused).
    const policy = `/policies/${encodeURIComponent(fixture.vhost.name)}/full`;
    await management('PUT', policy, {
      pattern: `^${queue.replaceAll('.', '\\.')}$`,
      definition: { 'max-length': 1, overflow: 'reject-publish' },
      'apply-to': 'queues',
    });
    try {
      const filler = await amqplib.connect(fixture.vhost.url);
      try {
        const confirms = await filler.createConfirmChannel();
        await waitFor(
          'the queue to refuse a publish',
          () =>
            new Promise<boolean>((resolve) =>
              confirms.publish('orders.events', 'order.placed', Buffer.from('{}'), {}, (error) =>
                resolve(Boolean(error)),
              ),
            ),
        );
      } finally {
        await filler.close();
      }
      const event = await placeOrder(orders);
      const refused = await waitFor('a refused attempt', async () => {
        const current = await row(orders, event.id);
        return current && current.attempts >= 1 ? current : undefined;
      });
      expect(refused.sent_at).toBeNull();
      expect(refused.last_error).toMatch(
        /RabbitMQ did not confirm order\.placed .*: the broker refused it \(nack\): a queue it routes to is full/,
      );

      await fixture.probe.drain(queue); // room again: the next attempt goes through
      await waitFor('the event to be sent', async () => (await row(orders, event.id))?.sent_at, {
        timeoutMs: 30_000,
      });
      const delivered = await fixture.probe.drain(queue);
      expect(delivered.map((message) => message.properties.messageId as string)).toEqual([
        event.id,
      ]);
    } finally {
      await management('DELETE', policy);
    }
  });

  it('publishes an event no service consumes without mandatory, and marks it sent', async () => {
    await fixture.probe.channel.assertQueue('inventory.order.placed', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    const inventory = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
    });
    running.push(inventory);
    const outbox = inventory.app.get(Outbox);
    const event = await inventory.dataSource.transaction((manager) =>
      outbox.enqueue(manager, 'inventory.released', {
        orderId: randomUUID(),
        items: [{ sku: 'SKU-1', quantity: 1 }],
      }),
    );
    const sent = await waitFor('the event to be sent', async () =>
      (await row(inventory, event.id))?.sent_at ? row(inventory, event.id) : undefined,
    );
    expect(sent?.mandatory).toBe(false);
    expect(sent?.attempts).toBe(0);
  });

  it('accepts writes while the broker is unreachable, holds no transaction open, and publishes them after', async () => {
    await fixture.probe.channel.assertQueue('inventory.order.placed', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await fixture.probe.channel.bindQueue(
      'inventory.order.placed',
      'orders.events',
      'order.placed',
    );
    await fixture.probe.drain('inventory.order.placed');
    const orders = await startOrders(proxy.rewrite(fixture.vhost.url));
    await waitFor('the broker connection', () => orders.messaging.isBrokerReady());
    proxy.cut();
    await waitFor('the service to notice the outage', () => !orders.messaging.isBrokerReady());

    const events: { id: string }[] = [];
    for (let i = 0; i < 5; i += 1) events.push(await placeOrder(orders));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = await orders.dataSource.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
    );
    expect(Number(idle[0]!.n)).toBe(0);
    for (const event of events) expect((await row(orders, event.id))?.sent_at).toBeNull();

    proxy.restore();
    await waitFor(
      'every event to be sent after the outage',
      async () => {
        const all = await rows(orders);
        return events.every((event) => all.find((r) => r.event_id === event.id)?.sent_at);
      },
      { timeoutMs: 30_000 },
    );
    const delivered = await fixture.probe.drain('inventory.order.placed');
    expect(delivered.map((m) => String(m.properties.messageId)).sort()).toEqual(
      events.map((e) => e.id).sort(),
    );
  });

  it('boots while the broker is away, reports not ready, and recovers without a restart', async () => {
    proxy.cut();
    const startedAt = Date.now();
    const orders = await startOrders(proxy.rewrite(fixture.vhost.url));
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(orders.messaging.isBrokerReady()).toBe(false);
    const event = await placeOrder(orders);
    proxy.restore();
    await waitFor('the broker connection', () => orders.messaging.isBrokerReady(), {
      timeoutMs: 15_000,
    });
    await waitFor(
      'the pending event to go out',
      async () => (await row(orders, event.id))?.sent_at,
      { timeoutMs: 30_000 },
    );
  });

  it('lets only one replica relay at a time', async () => {
    const first = await startOrders();
    const second = await startOrders();
    await waitFor(
      'a leader',
      () => first.messaging.isOutboxLeader() || second.messaging.isOutboxLeader(),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([first, second].filter((s) => s.messaging.isOutboxLeader())).toHaveLength(1);
  });

  it('hands the outbox to a connected replica when the leader loses the broker', async () => {
    const published = await fixture.probe.capture('orders.events');
    // The leader reaches the broker through the proxy; the other replica directly.
    const leader = await startOrders(proxy.rewrite(fixture.vhost.url));
    await waitFor('the first replica to lead', () => leader.messaging.isOutboxLeader());
    const other = await startOrders();
    // A queue for order.placed, so its mandatory publishes are routable.
    const queue = 'handover.order.placed';
    await fixture.probe.channel.assertQueue(queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await fixture.probe.channel.bindQueue(queue, 'orders.events', 'order.placed');
    proxy.cut();
    const cutAt = Date.now();
    const event = await placeOrder(other);
    await waitFor(
      'the other replica to publish the row',
      () => published.some((p) => (p.body as { id?: string }).id === event.id),
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    // Measured, not asserted (the machine's speed varies): the leader's grace, then a poll.
    console.log(`outbox handed over ${Date.now() - cutAt} ms after the leader lost the broker`);
    expect(other.messaging.isOutboxLeader()).toBe(true);
    expect(leader.messaging.isOutboxLeader()).toBe(false);
    await fixture.probe.channel.deleteQueue(queue);
  });
});
