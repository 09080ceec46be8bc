import {
  BrokerNode,
  BrokerProbe,
  createTestVhost,
  management,
  type TestVhost,
  waitFor,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib, { type Channel, type GetMessage } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

// What libs/messaging relies on RabbitMQ to do, checked on the broker of the run: RabbitMQ 3.10
// (the machine's) in one CI pass and 4.x in the other. Where the versions differ, the test says
// how, and libs/messaging/README.md says what the library does about it.
describe(`the RabbitMQ behaviours libs/messaging relies on`, () => {
  let vhost: TestVhost;
  let probe: BrokerProbe;
  let major = 0;
  const name = (what: string) => `${what}-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    vhost = await createTestVhost('behaviour');
    probe = await BrokerProbe.open(vhost.url);
    const { rabbitmq_version: version } = await management<{ rabbitmq_version: string }>(
      'GET',
      '/overview',
    );
    major = Number(version.split('.')[0]);
  });

  afterAll(async () => {
    await probe?.close();
    await vhost?.dispose();
  });

  const quorum = (extra: Record<string, unknown> = {}) => ({
    durable: true,
    arguments: { 'x-queue-type': 'quorum', ...extra },
  });
  /** The next message of `queue` (polling: a quorum queue may take a moment). */
  const next = async (channel: Channel, queue: string): Promise<GetMessage> =>
    waitFor(`a message on ${queue}`, async () => (await channel.get(queue)) || undefined);
  const deliveryCount = (message: GetMessage) =>
    Number(message.properties.headers?.['x-delivery-count'] ?? 0);

  it('counts both nack(requeue) and a channel closed unacked in x-delivery-count', async () => {
    const queue = name('count');
    await probe.channel.assertQueue(queue, quorum({ 'x-delivery-limit': 50 }));
    probe.channel.sendToQueue(queue, Buffer.from('x'), { persistent: true });
    const first = await next(probe.channel, queue);
    // 3.10 sends x-delivery-count 0 on the first delivery, 4.x no header: both read as 0.
    expect(deliveryCount(first)).toBe(0);
    probe.channel.nack(first, false, true);
    const second = await next(probe.channel, queue);
    expect(second.fields.redelivered).toBe(true);
    expect(deliveryCount(second)).toBe(1);
    probe.channel.nack(second, false, true);
    // A consumer that goes away holding it (a shutdown's requeue) counts the same.
    const connection = await amqplib.connect(vhost.url);
    const other = await connection.createChannel();
    await next(other, queue);
    await connection.close();
    const fourth = await next(probe.channel, queue);
    expect(deliveryCount(fourth)).toBe(3);
    probe.channel.ack(fourth);
  });

  it('dead-letters a quorum message past x-delivery-limit, at least once, to the DLX', async () => {
    const queue = name('limited');
    const dlx = name('dlx');
    const dlq = `${queue}.dlq`;
    await probe.channel.assertExchange(dlx, 'direct', { durable: true });
    await probe.channel.assertQueue(dlq, quorum());
    await probe.channel.bindQueue(dlq, dlx, queue);
    await probe.channel.assertQueue(
      queue,
      quorum({
        'x-delivery-limit': 2,
        'x-dead-letter-exchange': dlx,
        'x-dead-letter-routing-key': queue,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }),
    );
    probe.channel.sendToQueue(queue, Buffer.from('poison'), { persistent: true });
    for (let i = 0; i < 3; i++) probe.channel.nack(await next(probe.channel, queue), false, true);
    const dead = await next(probe.channel, dlq);
    const death = (dead.properties.headers?.['x-death'] as { reason: string; queue: string }[])[0];
    expect(death).toMatchObject({ reason: 'delivery_limit', queue });
    probe.channel.ack(dead);
    expect(await probe.depth(queue)).toBe(0);
  });

  it('applies its own default delivery limit only on RabbitMQ 4 (libs/messaging always sets one)', async () => {
    const queue = name('default-limit');
    await probe.channel.assertQueue(queue, quorum());
    probe.channel.sendToQueue(queue, Buffer.from('x'), { persistent: true });
    let deliveries = 0;
    for (; deliveries < 25; deliveries++) {
      const message = await waitFor(`delivery ${deliveries + 1}`, async () => {
        const got = await probe.channel.get(queue);
        if (got) return got;
        // RabbitMQ 4 drops it (no dead-letter exchange) once its default limit of 20 is reached.
        return (await probe.depth(queue)) === 0 && deliveries >= 20 ? 'gone' : undefined;
      });
      if (message === 'gone') break;
      probe.channel.nack(message, false, true);
    }
    if (major >= 4) expect(deliveries).toBeLessThanOrEqual(21);
    else expect(deliveries).toBe(25);
  });

  it('returns an expired retry from a shared wait queue to its origin queue only, by its CC', async () => {
    // The shape of libs/messaging's retries: one wait queue per service and delay, bound to
    // <service>.wait; on expiry it dead-letters into <service>.retry with the keys the retry
    // was published with, and only the origin queue is bound there by the CC key.
    const origin = name('origin');
    const other = name('other-subscriber');
    const retry = name('retry');
    const waitExchange = name('wait');
    const wait = `${retry}.100ms`;
    await probe.channel.assertExchange(retry, 'direct', { durable: true });
    await probe.channel.assertExchange(waitExchange, 'direct', { durable: true });
    for (const queue of [origin, other]) {
      await probe.channel.assertQueue(queue, quorum());
      await probe.channel.bindQueue(queue, retry, queue);
    }
    await probe.channel.assertQueue(
      wait,
      quorum({
        'x-message-ttl': 100,
        'x-dead-letter-exchange': retry,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }),
    );
    await probe.channel.bindQueue(wait, waitExchange, wait);
    probe.channel.publish(waitExchange, wait, Buffer.from('retry me'), {
      persistent: true,
      headers: { 'x-retry-count': 1, CC: [origin] },
    });
    const back = await next(probe.channel, origin);
    expect(back.content.toString()).toBe('retry me');
    expect(back.properties.headers?.['x-retry-count']).toBe(1);
    probe.channel.ack(back);
    await sleep(300);
    expect(await probe.depth(other)).toBe(0);
    expect(await probe.depth(wait)).toBe(0);
  });

  it('delivers a replayed dead letter again once its x-death is stripped', async () => {
    const origin = name('replayed');
    const retry = name('retry');
    await probe.channel.assertExchange(retry, 'direct', { durable: true });
    await probe.channel.assertQueue(origin, quorum());
    await probe.channel.bindQueue(origin, retry, origin);
    // What `npm run dlq -- replay` publishes: the DLQ copy's body and headers but x-death.
    probe.channel.publish(retry, origin, Buffer.from('replayed'), {
      persistent: true,
      headers: { 'x-retry-count': 0, 'x-replayed-at': new Date().toISOString() },
    });
    const message = await next(probe.channel, origin);
    expect(message.properties.headers?.['x-death']).toBeUndefined();
    probe.channel.ack(message);
  });
});

describe('a delivery held past the broker consumer_timeout', () => {
  let node: BrokerNode;

  beforeAll(async () => {
    // The broker checks the timeout on each channel's tick (every minute by default): faster here.
    node = await BrokerNode.start({
      prefix: 'ctimeout',
      config: ['consumer_timeout = 2000'],
      advanced: '[{rabbit, [{channel_tick_interval, 500}]}].',
    });
  }, 120_000);

  afterAll(async () => {
    await node?.dispose();
  });

  it('closes its channel (406) and is delivered again: HANDLER_TIMEOUT must stay below it', async () => {
    const connection = await amqplib.connect(node.url());
    const channel = await connection.createChannel();
    let closedWith = '';
    channel.on('error', (error: Error) => (closedWith = error.message));
    await channel.assertQueue('held', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    channel.sendToQueue('held', Buffer.from('x'), { persistent: true });
    await channel.prefetch(1);
    await channel.consume('held', () => undefined, { noAck: false }); // never acked
    await waitFor('the consumer timeout', () => closedWith || undefined, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(closedWith).toMatch(/PRECONDITION_FAILED.*(timed out|timeout)/i);
    const again = await connection.createChannel();
    const redelivered = await waitFor(
      'the redelivery',
      async () => (await again.get('held')) || undefined,
    );
    expect(redelivered.fields.redelivered).toBe(true);
    again.ack(redelivered);
    await sleep(100);
    await connection.close();
  });
});
