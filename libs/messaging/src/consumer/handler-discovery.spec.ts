import { type DecodedEvent } from '@app/events';
import { describe, expect, it } from '@jest/globals';
import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { EventHandler } from './event-handler.decorator.js';
import { HandlerDiscovery } from './handler-discovery.js';

const discover = async (providers: Type[]) => {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [...providers, HandlerDiscovery],
  }).compile();
  await moduleRef.init();
  try {
    return moduleRef.get(HandlerDiscovery).discover('inventory');
  } finally {
    await moduleRef.close();
  }
};

@Injectable()
class ReserveStock {
  @EventHandler('order.placed', { id: 'reserve-stock' })
  async reserve(_event: DecodedEvent<'order.placed'>): Promise<void> {}

  @EventHandler('order.cancelled', { id: 'release-cancelled' })
  async release(_event: DecodedEvent<'order.cancelled'>): Promise<void> {}
}

/** What `ReserveStock` was called before a rename: same id, so the same handler. */
@Injectable()
class StockReservations {
  @EventHandler('order.placed', { id: 'reserve-stock' })
  async onPlaced(_event: DecodedEvent<'order.placed'>): Promise<void> {}
}

describe('HandlerDiscovery: a handler is known by the id it declares', () => {
  it('keys the inbox by service and id, whatever the class and method are called', async () => {
    const handlers = await discover([ReserveStock]);
    expect(handlers.map((h) => [h.type, h.name])).toEqual([
      ['order.placed', 'inventory:reserve-stock'],
      ['order.cancelled', 'inventory:release-cancelled'],
    ]);
    const renamed = await discover([StockReservations]);
    expect(renamed.map((h) => h.name)).toEqual(['inventory:reserve-stock']);
  });

  it('stops the boot when two handlers of a service declare one id, naming both', async () => {
    await expect(discover([ReserveStock, StockReservations])).rejects.toThrow(
      "ReserveStock.reserve and StockReservations.onPlaced both declare the handler id 'reserve-stock' in inventory",
    );
    await expect(discover([ReserveStock, StockReservations])).rejects.toMatchObject({
      name: 'HandlerDeclarationError',
      code: 'MESSAGING.HANDLER_DECLARATION',
    });
  });

  it('refuses an id that is not lower-case words joined by hyphens', () => {
    for (const id of ['', 'Reserve', 'reserve_stock', 'reserve.stock', '-reserve', 'reserve-']) {
      expect(() => EventHandler('order.placed', { id })).toThrow(
        `@EventHandler('order.placed', { id: '${id}' }): a handler id is lower-case words joined by hyphens`,
      );
    }
    expect(() => EventHandler('order.placed', { id: 'reserve-stock-2' })).not.toThrow();
  });
});
