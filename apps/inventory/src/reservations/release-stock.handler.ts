import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { together } from '@app/platform';
import { Injectable, Logger } from '@nestjs/common';
import { adjustStock } from '../stock/stock.repository.js';
import { releaseOutcome } from './reservation-decision.js';
import { lockReservation, setReservation } from './reservation.repository.js';

/**
 * Compensation: an order that ends without a sale gives its stock back. `order.cancelled`
 * (the customer, or the payment deadline) and `order.rejected` (a shortage, or the saga's
 * reservation deadline passed before inventory answered) release a reservation, or, when they
 * arrive before `order.placed`, are recorded so that the late `order.placed` reserves nothing.
 */
@Injectable()
export class ReleaseStockHandler {
  private readonly logger = new Logger(ReleaseStockHandler.name);

  @EventHandler('order.cancelled', { id: 'release-cancelled' })
  release(event: DecodedEvent<'order.cancelled'>, context: EventContext): Promise<void> {
    return this.giveBack(event.data.orderId, 'CANCELLED', context);
  }

  @EventHandler('order.rejected', { id: 'release-rejected' })
  releaseRejected(event: DecodedEvent<'order.rejected'>, context: EventContext): Promise<void> {
    return this.giveBack(event.data.orderId, 'REJECTED', context);
  }

  private async giveBack(
    orderId: string,
    ended: 'CANCELLED' | 'REJECTED',
    context: EventContext,
  ): Promise<void> {
    const reservation = await lockReservation(context.manager, orderId);
    switch (releaseOutcome(reservation.status)) {
      case 'record':
        await setReservation(context.manager, orderId, ended);
        this.logger.log(`order ${orderId} ${ended.toLowerCase()} before it was placed; recorded`);
        return;
      case 'release':
        await together(context.manager, () => [
          adjustStock(context.manager, reservation.items, { reserved: -1, onHand: 0 }),
          setReservation(context.manager, orderId, 'RELEASED'),
          context.publish(
            'inventory.released',
            { orderId, items: reservation.items },
            { subject: orderId },
          ),
        ]);
        this.logger.log(`order ${orderId} ${ended.toLowerCase()}: reservation released`);
        return;
      case 'nothing':
        this.logger.log(`order ${orderId} is ${reservation.status}; nothing to release`);
    }
  }
}
