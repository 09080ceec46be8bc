import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable, Logger } from '@nestjs/common';
import { together } from '@app/platform';
import { adjustStock, lockAvailable } from '../stock/stock.repository.js';
import { shortOf, totalsBySku } from './reservation-decision.js';
import { lockReservation, setReservation } from './reservation.repository.js';

/** `order.placed` -> reserve every item or none -> `inventory.reserved` or `inventory.reservation-failed`. */
@Injectable()
export class ReserveStockHandler {
  private readonly logger = new Logger(ReserveStockHandler.name);

  @EventHandler('order.placed', { id: 'reserve-stock' })
  async reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    const { orderId } = event.data;
    const reservation = await lockReservation(context.manager, orderId);
    if (reservation.status !== 'NEW') {
      // CANCELLED or REJECTED: the order ended before it reached inventory; nothing is reserved.
      this.logger.log(`order ${orderId} is ${reservation.status}; nothing to reserve`);
      return;
    }
    const wanted = totalsBySku(event.data.items);
    const short = shortOf(
      wanted,
      await lockAvailable(
        context.manager,
        wanted.map((item) => item.sku),
      ),
    );
    if (short.length) {
      await together(context.manager, () => [
        setReservation(context.manager, orderId, 'FAILED', wanted),
        context.publish(
          'inventory.reservation-failed',
          { orderId, reason: `Not enough stock for ${short.join(', ')}`, shortSkus: short },
          { subject: orderId },
        ),
      ]);
      this.logger.log(`order ${orderId} not reserved: short of ${short.join(', ')}`);
      return;
    }
    // Independent writes, sent together (one round trip on a pipelining connection).
    await together(context.manager, () => [
      adjustStock(context.manager, wanted, { reserved: 1, onHand: 0 }),
      setReservation(context.manager, orderId, 'RESERVED', wanted),
      context.publish('inventory.reserved', { orderId, items: wanted }, { subject: orderId }),
    ]);
    this.logger.log(`order ${orderId} reserved`);
  }
}
