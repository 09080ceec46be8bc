import { EVENT_FLOWS, EVENT_TYPES, type ServiceName } from '@app/events';
import {
  applySubscription,
  assertExchanges,
  buildTopology,
  definitionsPermissions,
  resolveMessagingOptions,
} from '@app/messaging';
import { brokerAddress, createTestVhost, management, type TestVhost } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib from 'amqplib';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Definitions {
  permissions: { user: string; configure: string; write: string; read: string }[];
  topic_permissions: { user: string; exchange: string; write: string; read: string }[];
}

const definitions = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '..', '..', 'deploy', 'rabbitmq', 'definitions.json'),
    'utf8',
  ),
) as Definitions;
const SERVICES: ServiceName[] = ['users', 'orders', 'inventory', 'email'];
const suffix = randomBytes(3).toString('hex');
const userOf = (service: ServiceName) => `${service}-permtest-${suffix}`;
const PASSWORD = 'permtest-password';

describe('the broker definitions give each service least privilege', () => {
  let vhost: TestVhost;
  const { host, port } = brokerAddress();
  const url = (service: ServiceName) =>
    `amqp://${userOf(service)}:${PASSWORD}@${host}:${port}/${encodeURIComponent(vhost.name)}`;
  const topologyOf = (service: ServiceName) =>
    buildTopology(
      resolveMessagingOptions({ service, url: url(service) }),
      EVENT_TYPES.filter((type) => EVENT_FLOWS[type].consumers.includes(service)),
    );

  beforeAll(async () => {
    vhost = await createTestVhost('permissions');
    for (const service of SERVICES) {
      const permission = definitions.permissions.find((p) => p.user === service);
      if (!permission) throw new Error(`definitions.json has no permissions for ${service}`);
      await management('PUT', `/users/${userOf(service)}`, { password: PASSWORD, tags: '' });
      await management('PUT', `/permissions/${encodeURIComponent(vhost.name)}/${userOf(service)}`, {
        configure: permission.configure,
        write: permission.write,
        read: permission.read,
      });
      for (const topic of definitions.topic_permissions.filter((t) => t.user === service)) {
        await management(
          'PUT',
          `/topic-permissions/${encodeURIComponent(vhost.name)}/${userOf(service)}`,
          { exchange: topic.exchange, write: topic.write, read: topic.read },
        );
      }
    }
    // Each service declares its own topology as its own user, as the services do at boot:
    // its exchanges on the publisher channel, then each subscription (which only checks the
    // producer's exchange).
    for (const service of SERVICES) {
      const connection = await amqplib.connect(url(service));
      await assertExchanges(await connection.createChannel(), topologyOf(service));
      await connection.close();
    }
    for (const service of SERVICES) {
      const topology = topologyOf(service);
      const connection = await amqplib.connect(url(service));
      for (const subscription of topology.subscriptions)
        await applySubscription(await connection.createChannel(), topology, subscription);
      await connection.close();
    }
  });

  afterAll(async () => {
    for (const service of SERVICES)
      await management('DELETE', `/users/${userOf(service)}`).catch(() => undefined);
    await vhost?.dispose();
  });

  /** Runs `action` on a fresh confirm channel as `service`; resolves "ok" or the refusal. */
  const attempt = async (
    service: ServiceName,
    action: (channel: amqplib.ConfirmChannel) => Promise<unknown>,
  ) => {
    const connection = await amqplib.connect(url(service));
    const channel = await connection.createConfirmChannel();
    let closedWith = '';
    channel.on('error', (error: Error) => (closedWith = error.message));
    try {
      await action(channel);
      return 'ok';
    } catch (error) {
      const message = `${(error as Error).message} ${closedWith}`;
      return /ACCESS_REFUSED/.test(message) ? 'refused' : `error: ${message}`;
    } finally {
      await connection.close().catch(() => undefined);
    }
  };
  const publish = (exchange: string) => async (channel: amqplib.ConfirmChannel) => {
    channel.publish(exchange, 'x', Buffer.from('{}'));
    await channel.waitForConfirms();
  };
  const read = (queue: string) => (channel: amqplib.ConfirmChannel) => channel.get(queue);

  it('are the ones derived from the event catalog (npm run topology -- --write)', () => {
    const derived = definitionsPermissions(SERVICES);
    expect(definitions.permissions.filter((p) => p.user !== 'admin')).toEqual(derived.permissions);
    expect(definitions.topic_permissions).toEqual(derived.topic_permissions);
  });

  it('lets each service declare its topology and publish to its own exchanges', async () => {
    for (const service of SERVICES) {
      expect([service, await attempt(service, publish(`${service}.events`))]).toEqual([
        service,
        'ok',
      ]);
      expect([service, await attempt(service, publish(`${service}.retry`))]).toEqual([
        service,
        'ok',
      ]);
    }
    expect(await attempt('inventory', read('inventory.order.placed'))).toBe('ok');
    expect(await attempt('email', read('email.user.registered.dlq'))).toBe('ok');
  });

  it("refuses a publish to another service's exchange", async () => {
    expect(await attempt('inventory', publish('orders.events'))).toBe('refused');
    expect(await attempt('email', publish('users.events'))).toBe('refused');
    expect(await attempt('users', publish('inventory.retry'))).toBe('refused');
    expect(await attempt('orders', publish('email.dlx'))).toBe('refused');
  });

  it("refuses a consumer deleting or re-declaring the producers' exchanges it reads", async () => {
    expect(await attempt('email', (c) => c.deleteExchange('users.events'))).toBe('refused');
    expect(await attempt('email', (c) => c.assertExchange('users.events', 'fanout'))).toBe(
      'refused',
    );
    expect(await attempt('orders', (c) => c.deleteExchange('inventory.events'))).toBe('refused');
    expect(await attempt('inventory', (c) => c.deleteExchange('orders.events'))).toBe('refused');
    // Checking that it exists (what the services do) needs no permission.
    expect(await attempt('email', (c) => c.checkExchange('users.events'))).toBe('ok');
  });

  it('lets a consumer bind only the event types it consumes', async () => {
    const bind = (key: string) => (channel: amqplib.ConfirmChannel) =>
      channel.bindQueue('inventory.order.placed', 'orders.events', key);
    expect(await attempt('inventory', bind('#'))).toBe('refused');
    expect(await attempt('inventory', bind('order.confirmed'))).toBe('refused');
    expect(await attempt('inventory', bind('order.placed'))).toBe('ok');
  });

  it("refuses reading another service's queues", async () => {
    expect(await attempt('orders', read('inventory.order.placed'))).toBe('refused');
    expect(await attempt('inventory', read('email.order.cancelled'))).toBe('refused');
    expect(await attempt('users', read('email.user.registered'))).toBe('refused');
    expect(await attempt('email', read('orders.inventory.reserved.dlq'))).toBe('refused');
  });
});
