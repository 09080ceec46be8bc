import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable, Logger } from '@nestjs/common';
import { together } from '@app/platform';
import { adjustStock, lockReservation, setReservation } from './reservation.repository.js';

/** `order.cancelled` -> release a reservation (`inventory.released`), or remember the cancellation. */
@Injectable()
export class ReleaseStockHandler {
  private readonly logger = new Logger(ReleaseStockHandler.name);

  @EventHandler('order.cancelled')
  async release(event: DecodedEvent<'order.cancelled'>, context: EventContext): Promise<void> {
    const { orderId } = event.data;
    const reservation = await lockReservation(context.manager, orderId);
    switch (reservation.status) {
      case 'NEW':
        // Cancelled before placed: a late order.placed will reserve nothing.
        await setReservation(context.manager, orderId, 'CANCELLED');
        this.logger.log(`order ${orderId} cancelled before it was placed; recorded`);
        return;
      case 'RESERVED':
        await together(context.manager, () => [
          adjustStock(context.manager, reservation.items, { reserved: -1, onHand: 0 }),
          setReservation(context.manager, orderId, 'RELEASED'),
          context.publish(
            'inventory.released',
            { orderId, items: reservation.items },
            { subject: orderId },
          ),
        ]);
        this.logger.log(`order ${orderId} released`);
        return;
      default:
        this.logger.log(`order ${orderId} is ${reservation.status}; nothing to release`);
    }
  }
}
