import { metricsRegistry } from '@app/platform';
import { type DecodedEvent } from '@app/events';
import {
  BrokerNode,
  BrokerProbe,
  createTestDatabase,
  createTestVhost,
  type TestDatabase,
  type TestVhost,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { orderPlaced, startService, type TestService } from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';

/** Opened once the alarm is on: until then the handlers wait, so the backlog stays queued. */
let gate: () => void = () => undefined;
const opened = new Promise<void>((resolve) => (gate = resolve));

/** Each order.placed raises inventory.reserved through the outbox. */
@Injectable()
class ReservingHandler {
  @EventHandler('order.placed', { id: 'reserve' })
  async reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    await opened;
    await context.publish(
      'inventory.reserved',
      { orderId: event.data.orderId, items: [{ sku: 'SKU-1', quantity: 1 }] },
      { subject: event.data.orderId },
    );
  }
}

// A broker node of the test's own: a disk alarm blocks every publishing connection on it.
/** The `messaging_deliveries_in_flight` gauge: received, not yet acked, retried or dead-lettered. */
async function deliveriesInFlight(): Promise<number | undefined> {
  const metric = await metricsRegistry.getSingleMetric('messaging_deliveries_in_flight')?.get();
  return metric?.values[0]?.value;
}

describe('when RabbitMQ blocks publishing (a resource alarm)', () => {
  let node: BrokerNode;
  let vhost: TestVhost;
  let database: TestDatabase;
  /** Publishes the backlog (and is blocked with the alarm); `reader` never publishes. */
  let probe: BrokerProbe;
  let reader: BrokerProbe;
  let service: TestService;
  const queue = 'inventory.order.placed';
  const count = 300;

  beforeAll(async () => {
    node = await BrokerNode.start({ prefix: 'alarm' });
    vhost = await createTestVhost('alarm', node.access);
    database = await createTestDatabase('alarm');
    probe = await BrokerProbe.open(vhost.url);
    reader = await BrokerProbe.open(vhost.url);
    await probe.channel.assertExchange('orders.events', 'topic', { durable: true });
    service = await startService({
      service: 'inventory',
      amqpUrl: vhost.url,
      databaseUrl: database.url,
      providers: [ReservingHandler],
      messaging: { prefetch: 10, publishTimeoutMs: 3_000 },
    });
    // Someone consumes inventory.reserved, so its publishes are mandatory and routable.
    await probe.channel.assertQueue('orders.inventory.reserved', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await probe.channel.bindQueue(
      'orders.inventory.reserved',
      'inventory.events',
      'inventory.reserved',
    );
  }, 120_000);

  afterAll(async () => {
    await node?.ctl('set_disk_free_limit', '50MB').catch(() => undefined);
    await service?.close();
    await probe?.close();
    await reader?.close();
    await database?.dispose();
    await node?.dispose();
  });

  const pendingOutbox = async () =>
    Number(
      (
        await service.dataSource.query<{ n: string }[]>(
          `SELECT count(*) AS n FROM messaging_outbox WHERE sent_at IS NULL`,
        )
      )[0]!.n,
    );

  it('keeps consuming on its own connection, holds publishes back, and publishes them once lifted', async () => {
    // A backlog in the queue, published before the alarm.
    for (let i = 0; i < count; i++) {
      const event = orderPlaced();
      probe.channel.publish('orders.events', 'order.placed', Buffer.from(JSON.stringify(event)), {
        persistent: true,
        messageId: event.id,
        type: event.type,
      });
    }
    await waitFor('the backlog to arrive', async () => (await reader.depth(queue)) > count / 2);

    await node.ctl('set_disk_free_limit', '100000GB'); // more than any disk: the alarm goes off
    await waitFor(
      'the disk alarm',
      async () =>
        (await node.management<{ disk_free_alarm: boolean }>('GET', `/nodes/${node.name}`))
          .disk_free_alarm,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    gate(); // the handlers run and raise their follow-ups under the alarm
    await waitFor(
      'the publisher to see the block',
      () => service.messaging.brokerDetails().blocked !== false,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // Consuming and acking go on while publishing is blocked: the backlog drains.
    await waitFor(
      'the backlog to be consumed and acked under the alarm',
      async () => (await reader.depth(queue)) === 0 && (await deliveriesInFlight()) === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(service.messaging.brokerDetails().blocked).not.toBe(false);
    // The follow-ups wait in the outbox instead of filling the socket: none reach their queue.
    const delivered = await reader.depth('orders.inventory.reserved');
    expect(await pendingOutbox()).toBeGreaterThan(count / 2);
    await sleep(2_000);
    expect(await reader.depth('orders.inventory.reserved')).toBe(delivered);

    await node.ctl('set_disk_free_limit', '50MB');
    await waitFor(
      'the outbox to drain once the alarm is lifted',
      async () => (await pendingOutbox()) === 0,
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(service.messaging.brokerDetails().blocked).toBe(false);
    // Every follow-up arrived. A publish written just before the broker's "blocked" notice
    // reached us waits in the socket, times out and is sent again: at least once, never lost.
    const ids = new Set<string>();
    await waitFor('every follow-up in its queue', async () => {
      for (const message of await reader.drain('orders.inventory.reserved'))
        ids.add(String(message.properties.messageId));
      return ids.size === count;
    });
  });
});
