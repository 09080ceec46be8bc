import { createEvent, type DecodedEvent } from '@app/events';
import { connectionsOf, management, SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CapturingLogger,
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';

@Injectable()
class TwoQueueHandlers {
  @EventHandler('order.placed', { id: 'placed' })
  async placed(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('placed', $1, $2, '{}')`,
      [event.envelope.id, event.envelope.subject ?? null],
    );
  }

  @EventHandler('order.cancelled', { id: 'cancelled' })
  async cancelled(event: DecodedEvent<'order.cancelled'>, context: EventContext): Promise<void> {
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('cancelled', $1, $2, '{}')`,
      [event.envelope.id, event.envelope.subject ?? null],
    );
  }
}

// One missing permission on one queue, as per-service broker users make likely: that queue
// stops, nothing else does, and it recovers once the permission is granted.
describe('a channel error that recurs on every setup', () => {
  let fixture: SuiteFixture;
  let service: TestService;
  const logger = new CapturingLogger();
  const user = `perm-${randomBytes(3).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const denied = 'inventory.order.cancelled';
  const setPermissions = (configure: string) =>
    management('PUT', `/permissions/${encodeURIComponent(fixture.vhost.name)}/${user}`, {
      configure,
      write: '.*',
      read: '.*',
    });

  beforeAll(async () => {
    fixture = await SuiteFixture.create('channel_errors');
    await management('PUT', `/users/${user}`, { password, tags: '' });
    // Everything but declaring the one queue (RabbitMQ's permissions are regular expressions).
    await setPermissions(`^(?!${denied.replace(/\./g, '\\.')}$).*$`);
    const url = fixture.vhost.firstUrl.replace('guest:guest', `${user}:${password}`);
    service = await startService({
      service: 'inventory',
      amqpUrl: url,
      databaseUrl: fixture.database.url,
      providers: [TwoQueueHandlers],
      messaging: { connectWaitMs: 2_000 },
      logger,
    });
  });

  afterAll(async () => {
    await service?.close();
    await management('DELETE', `/users/${user}`).catch(() => undefined);
    await fixture?.dispose();
  });

  const connectionsOfService = async () =>
    (await connectionsOf(fixture.vhost.name))
      .filter((c) => c.client_properties?.connection_name?.startsWith('inventory@'))
      .map((c) => c.name)
      .sort();

  it('stops that queue only, backs off, reports each attempt once, and recovers when granted', async () => {
    const before = await waitFor('the service connections', async () => {
      const names = await connectionsOfService();
      return names.length === 2 ? names : undefined;
    });
    // The other queue consumes while the refused one is down.
    const placed = orderPlaced();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', placed);
    await waitFor(
      'order.placed to be handled',
      async () => (await effects(service.dataSource, 'placed')).length === 1,
    );
    expect(service.messaging.brokerDetails().failingQueues).toEqual([denied]);
    expect(service.messaging.isBrokerReady()).toBe(false);
    await sleep(7_000);
    // No reconnect storm: the same two connections, never closed and opened again.
    expect(await connectionsOfService()).toEqual(before);
    // One line per attempt, naming what was refused; the back-off (1 s, 2 s, 4 s...) keeps
    // them few: a storm made one every few hundred milliseconds.
    const reports = logger.matching(new RegExp(`consumer of ${denied}: .*ACCESS_REFUSED`), 'warn');
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.length).toBeLessThanOrEqual(5);
    expect(reports[0]).toContain(`access to queue '${denied}'`);

    await setPermissions('.*');
    await waitFor(
      'the refused queue to consume once granted',
      () => service.messaging.isBrokerReady(),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const orderId = randomUUID();
    const cancelledEvent = createEvent(
      'order.cancelled',
      { orderId, userId: randomUUID(), reason: 'customer' },
      { source: 'orders', subject: orderId, streamVersion: 2 },
    );
    await publishRaw(fixture.probe, 'orders.events', 'order.cancelled', cancelledEvent);
    await waitFor(
      'order.cancelled to be handled',
      async () => (await effects(service.dataSource, 'cancelled')).length === 1,
    );
    expect(await connectionsOfService()).toEqual(before);
  });

  it('re-declares and consumes a queue the broker deleted under its consumer, and says so', async () => {
    await management(
      'DELETE',
      `/queues/${encodeURIComponent(fixture.vhost.name)}/${encodeURIComponent('inventory.order.placed')}`,
    );
    await waitFor(
      'the cancellation to be reported',
      () =>
        logger.matching(/RabbitMQ cancelled the consumer of inventory\.order\.placed/).length > 0,
    );
    await waitFor('the queue to be consumed again', () => service.messaging.isBrokerReady(), {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const event = orderPlaced();
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('the event on the re-declared queue', async () =>
      (await effects(service.dataSource, 'placed')).some((row) => row.event_id === event.id),
    );
  });
});
