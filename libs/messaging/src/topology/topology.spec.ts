import { describe, expect, it } from '@jest/globals';
import { resolveMessagingOptions } from '../messaging.options.js';
import { formatDuration } from '@app/platform';
import { buildTopology } from './topology.js';

const options = (overrides = {}) =>
  resolveMessagingOptions({ service: 'email', url: 'amqp://localhost', ...overrides });

describe('buildTopology', () => {
  it('derives the names of docs/contract.md section 5 from the consumed types', () => {
    const topology = buildTopology(options(), ['user.registered', 'order.confirmed']);
    // It declares its own exchanges only; the producers' are checked, never declared.
    expect(topology.exchanges.map((e) => `${e.name}:${e.type}`).sort()).toEqual(
      ['email.events:topic', 'email.retry:direct', 'email.wait:direct', 'email.dlx:direct'].sort(),
    );
    expect(topology.sourceExchanges.map((e) => e.name).sort()).toEqual([
      'orders.events',
      'users.events',
    ]);
    const subscription = topology.subscriptions.find((s) => s.type === 'user.registered')!;
    expect(subscription.queue).toBe('email.user.registered');
    expect(subscription.waitQueues.map((w) => w.name)).toEqual([
      'email.retry.1-1s',
      'email.retry.2-10s',
      'email.retry.3-60s',
      'email.retry.4-5m',
    ]);
    expect(subscription.deadLetterQueue).toBe('email.user.registered.dlq');
    expect(topology.bindings).toContainEqual({
      queue: 'email.user.registered',
      exchange: 'users.events',
      routingKey: 'user.registered',
    });
    expect(topology.bindings.some((b) => b.exchange === '')).toBe(false);
  });

  // Named by formatted milliseconds, RETRY_DELAYS=60s gave email.retry.1m, and the UI sorted
  // email.retry.10s before email.retry.1s.
  it('names each wait queue by its level and its delay as configured, in retry order', () => {
    const topology = buildTopology(
      options({ retryDelaysMs: [1_000, 10_000, 60_000], retryDelayLabels: ['1s', '10s', '60s'] }),
      ['user.registered'],
    );
    const names = topology.queues.filter((q) => q.role === 'wait').map((q) => q.name);
    expect(names).toEqual(['email.retry.1-1s', 'email.retry.2-10s', 'email.retry.3-60s']);
    expect([...names].sort()).toEqual(names);
  });

  it('shares one wait queue per delay between the subscriptions, routed back by CC', () => {
    const topology = buildTopology(options(), ['user.registered', 'order.confirmed']);
    const waits = topology.queues.filter((q) => q.role === 'wait');
    expect(waits.map((q) => q.name)).toEqual([
      'email.retry.1-1s',
      'email.retry.2-10s',
      'email.retry.3-60s',
      'email.retry.4-5m',
    ]);
    // Expired, a retry keeps the keys it was published with: back through email.retry,
    // where each main queue is bound by its own name (the CC the retry carries).
    expect(waits[0]!.arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-message-ttl': 1_000,
      'x-dead-letter-exchange': 'email.retry',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
    expect(topology.bindings).toContainEqual({
      queue: 'email.retry.1-1s',
      exchange: 'email.wait',
      routingKey: 'email.retry.1-1s',
    });
    for (const queue of ['email.user.registered', 'email.order.confirmed'])
      expect(topology.bindings).toContainEqual({
        queue,
        exchange: 'email.retry',
        routingKey: queue,
      });
    expect(topology.bindings.filter((b) => b.exchange === 'email.retry')).toHaveLength(2);
  });

  it('gives main queues an explicit delivery limit and dead-lettering to <service>.dlx', () => {
    const topology = buildTopology(options({ deliveryLimit: 4 }), ['user.registered']);
    expect(topology.queues.find((q) => q.name === 'email.user.registered')?.arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 4,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-dead-letter-exchange': 'email.dlx',
      'x-dead-letter-routing-key': 'email.user.registered',
    });
  });

  it('gives dead-letter queues an explicit, effectively unlimited delivery limit', () => {
    const topology = buildTopology(options(), ['user.registered']);
    expect(topology.queues.find((q) => q.role === 'dead-letter')?.arguments).toEqual({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 1_000_000,
    });
  });

  it('declares classic queues without quorum-only arguments in development mode', () => {
    const topology = buildTopology(options({ queueType: 'classic' }), ['user.registered']);
    for (const queue of topology.queues) {
      expect(queue.arguments['x-queue-type']).toBe('classic');
      expect(queue.arguments['x-delivery-limit']).toBeUndefined();
      expect(queue.arguments['x-queue-mode']).toBeUndefined();
    }
  });

  it('has only its own exchanges when it consumes nothing', () => {
    const topology = buildTopology(options(), []);
    expect(topology.queues).toEqual([]);
    expect(topology.exchanges).toHaveLength(4);
  });
});

describe('resolveMessagingOptions', () => {
  it.each([
    [{ prefetch: 0 }, 'prefetch 0 must be an integer of at least 1'],
    [{ deliveryLimit: 1 }, 'deliveryLimit 1 must be an integer of at least 2'],
    [{ retryDelaysMs: [1000, 1000] }, 'must not repeat a delay'],
    [{ queueType: 'lazy' }, 'must be quorum or classic'],
  ])('rejects %j with a clear message', (overrides, message) => {
    expect(() => options(overrides)).toThrow(message);
  });
});

describe('formatDuration (retry queue names)', () => {
  it.each([
    [1_000, '1s'],
    [10_000, '10s'],
    [60_000, '1m'],
    [300_000, '5m'],
    [1_500, '1500ms'],
    [7_200_000, '2h'],
  ])('%d ms -> %s', (ms, name) => expect(formatDuration(ms)).toBe(name));
});
