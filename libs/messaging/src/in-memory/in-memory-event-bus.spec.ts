import 'reflect-metadata';
import { type DecodedEvent } from '@app/events';
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';

const placed = (sku = 'SKU-1') => ({
  orderId: randomUUID(),
  userId: randomUUID(),
  items: [{ sku, quantity: 2, unitPriceCents: 300 }],
  totalCents: 600,
  currency: 'EUR',
});

class Reserver {
  calls = 0;
  @EventHandler('order.placed')
  async reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    this.calls += 1;
    if (event.data.items[0]?.sku === 'BROKEN') throw new Error('ledger down');
    await context.publish('inventory.reserved', {
      orderId: event.data.orderId,
      items: event.data.items.map(({ sku, quantity }) => ({ sku, quantity })),
    });
  }
}

describe('InMemoryEventBus', () => {
  it('delivers to @EventHandler methods and delivers raised events with causation', async () => {
    const reserver = new Reserver();
    const confirmed: string[] = [];
    const bus = new InMemoryEventBus({ service: 'inventory' })
      .register(reserver)
      .subscribe('inventory.reserved', async (event) => {
        confirmed.push(event.data.orderId);
      });
    const data = placed();
    await bus.emit('order.placed', data, data.orderId);
    expect(confirmed).toEqual([data.orderId]);
    expect(bus.raised[0]).toMatchObject({ type: 'inventory.reserved', source: 'inventory' });
    expect(bus.raised[0]?.causationid).toBeDefined();
  });

  it('retries a failing handler, then dead-letters it as handler-error', async () => {
    const reserver = new Reserver();
    const bus = new InMemoryEventBus({ retries: 2 }).register(reserver);
    await bus.emit('order.placed', placed('BROKEN'));
    expect(reserver.calls).toBe(3);
    expect(bus.deadLetters).toMatchObject([
      { exceptionType: 'handler-error', attempts: 3, message: 'ledger down' },
    ]);
  });

  it('dead-letters contract violations at once and skips duplicates', async () => {
    const reserver = new Reserver();
    const bus = new InMemoryEventBus().register(reserver);
    await bus.deliver('not json');
    await bus.deliver({
      specversion: '1.0',
      id: '1',
      type: 'order.placed',
      source: 'x',
      time: new Date().toISOString(),
      data: {},
      eventversion: 9,
      correlationid: 'c',
    });
    expect(bus.deadLetters.map((d) => d.exceptionType)).toEqual([
      'malformed-message',
      'unsupported-version',
    ]);
    const event = {
      specversion: '1.0',
      id: randomUUID(),
      type: 'order.placed',
      source: 'orders',
      time: new Date().toISOString(),
      data: placed(),
      eventversion: 2,
      correlationid: 'c',
    };
    await bus.deliver(event);
    await bus.deliver(event);
    expect(reserver.calls).toBe(1);
  });
});
