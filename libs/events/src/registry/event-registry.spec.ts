import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createEvent } from '../envelope/create-event.js';
import {
  MalformedMessageError,
  SchemaViolationError,
  UnknownEventTypeError,
  UnsupportedVersionError,
} from '../errors.js';
import { EventRegistry } from './event-registry.js';

const registry = new EventRegistry({ defaultCurrency: 'EUR' });
const orderId = randomUUID();
const userId = randomUUID();
const v2 = () =>
  createEvent(
    'order.placed',
    {
      orderId,
      userId,
      items: [{ sku: 'SKU-1', quantity: 2, unitPriceCents: 1250 }],
      totalCents: 2500,
      currency: 'EUR',
    },
    { source: 'orders', subject: orderId, streamVersion: 1, correlationId: 'corr-1' },
  );
const raw = (document: unknown) => Buffer.from(JSON.stringify(document));

describe('EventRegistry.decode', () => {
  it('returns the typed latest-version event', () => {
    const decoded = registry.decode(raw(v2()));
    expect(decoded.type).toBe('order.placed');
    expect(decoded.version).toBe(2);
    expect(decoded.receivedVersion).toBe(2);
    expect(decoded.envelope.correlationid).toBe('corr-1');
    if (decoded.type === 'order.placed') expect(decoded.data.totalCents).toBe(2500);
  });

  it('upcasts order.placed v1 to v2 (sku = productId, cents rounded, default currency)', () => {
    const legacy = {
      ...v2(),
      eventversion: 1,
      data: {
        orderId,
        userId,
        items: [{ productId: 'SKU-1', price: 19.99, quantity: 3 }],
        totalAmount: 59.97,
      },
    };
    const decoded = registry.decode(raw(legacy));
    expect(decoded.receivedVersion).toBe(1);
    expect(decoded.version).toBe(2);
    expect(decoded.data).toEqual({
      orderId,
      userId,
      items: [{ sku: 'SKU-1', quantity: 3, unitPriceCents: 1999 }],
      totalCents: 5997,
      currency: 'EUR',
    });
    expect(decoded.envelope.eventversion).toBe(2);
  });

  it('ignores unknown extra fields', () => {
    const event = v2();
    const decoded = registry.decode(
      raw({ ...event, data: { ...event.data, giftWrap: true }, extra: 1 }),
    );
    expect(decoded.type).toBe('order.placed');
  });

  it.each([
    ['not JSON', Buffer.from('{nope'), MalformedMessageError],
    ['JSON but no envelope', raw({ hello: 'world' }), MalformedMessageError],
    ['an unknown type', raw({ ...v2(), type: 'order.exploded' }), UnknownEventTypeError],
    ['a newer version', raw({ ...v2(), eventversion: 3 }), UnsupportedVersionError],
    ['a schema violation', raw({ ...v2(), data: { orderId } }), SchemaViolationError],
    [
      'a float price in v2',
      raw({ ...v2(), data: { ...v2().data, totalCents: 25.5 } }),
      SchemaViolationError,
    ],
  ])('rejects %s with its typed error', (_label, body, errorType) => {
    expect(() => registry.decode(body)).toThrow(errorType);
  });

  it('names the exception type on each error', () => {
    try {
      registry.decode(raw({ ...v2(), eventversion: 9 }));
      throw new Error('expected a throw');
    } catch (error) {
      expect((error as UnsupportedVersionError).exceptionType).toBe('unsupported-version');
      expect((error as Error).message).toContain(
        'order.placed v9 is newer than this consumer knows',
      );
    }
  });
});
