import { SchemaViolationError } from '@app/events';
import { describe, expect, it } from '@jest/globals';
import { type Subscription } from '../topology/topology.js';
import { classifyFailure, deadLetterHeaders, originOf, retryHeaders } from './failure-policy.js';

const subscription: Pick<Subscription, 'type' | 'queue' | 'deadLetterQueue' | 'waitQueues'> = {
  type: 'order.placed',
  queue: 'inventory.order.placed',
  deadLetterQueue: 'inventory.order.placed.dlq',
  waitQueues: [
    { name: 'inventory.retry.1-1s', delayMs: 1_000 },
    { name: 'inventory.retry.2-10s', delayMs: 10_000 },
  ],
};

describe('classifyFailure', () => {
  it('sends contract errors to the DLQ at once, whatever the retry count', () => {
    expect(classifyFailure(new SchemaViolationError('bad'), 0, subscription)).toEqual({
      kind: 'dead-letter',
      exceptionType: 'schema-violation',
    });
  });

  it('sends handler errors through each retry level, then to the DLQ', () => {
    expect(classifyFailure(new Error('x'), 0, subscription)).toMatchObject({
      kind: 'retry',
      level: 1,
      waitQueue: 'inventory.retry.1-1s',
    });
    expect(classifyFailure(new Error('x'), 1, subscription)).toMatchObject({
      kind: 'retry',
      level: 2,
      waitQueue: 'inventory.retry.2-10s',
    });
    expect(classifyFailure(new Error('x'), 2, subscription)).toEqual({
      kind: 'dead-letter',
      exceptionType: 'handler-error',
    });
  });
});

describe('failure headers', () => {
  const death = {
    count: 1,
    reason: 'expired' as const,
    queue: 'q.retry.1-1s',
    time: { '!': 'timestamp' as const, value: 0 },
    exchange: 'inventory.retry',
    'routing-keys': ['q.retry.1-1s'],
  };
  const incoming = {
    'x-death': [death],
    'x-delivery-count': 1,
    'x-event-version': 2,
    'x-original-exchange': 'orders.events',
    'x-original-routing-key': 'order.placed',
  };

  it('keeps the first origin across retries', () => {
    expect(
      originOf(incoming, { exchange: 'inventory.retry', routingKey: 'inventory.order.placed' }),
    ).toEqual({
      exchange: 'orders.events',
      routingKey: 'order.placed',
    });
  });

  it('strips x-death from retry copies, counts the level, and names the origin queue in CC', () => {
    const headers = retryHeaders(
      { ...incoming, CC: ['inventory.order.placed'] },
      { exchange: 'orders.events', routingKey: 'order.placed' },
      2,
      new Error('boom'),
      'inventory.order.placed',
    );
    expect(headers['x-death']).toBeUndefined();
    expect(headers['x-delivery-count']).toBeUndefined();
    expect(headers).toMatchObject({
      'x-retry-count': 2,
      'x-event-version': 2,
      CC: ['inventory.order.placed'],
    });
  });

  it('drops the last retry CC from the DLQ copy', () => {
    const headers = deadLetterHeaders(
      { ...incoming, CC: ['inventory.order.placed'] },
      { exchange: 'orders.events', routingKey: 'order.placed' },
      'inventory.order.placed',
      'handler-error',
      new Error('boom'),
      2,
    );
    expect(headers.CC).toBeUndefined();
  });

  it('keeps x-death on the DLQ copy and truncates the stack trace', () => {
    const error = new Error('boom');
    error.stack = 'x'.repeat(10_000);
    const headers = deadLetterHeaders(
      incoming,
      { exchange: 'orders.events', routingKey: 'order.placed' },
      'inventory.order.placed',
      'handler-error',
      error,
      2,
    );
    expect(headers['x-death']).toEqual([death]);
    expect(String(headers['x-exception-stacktrace']).length).toBeLessThanOrEqual(4_000);
    expect(headers).toMatchObject({
      'x-exception-type': 'handler-error',
      'x-exception-message': 'Error: boom',
      'x-failed-queue': 'inventory.order.placed',
      'x-retry-count': 2,
    });
  });
});
