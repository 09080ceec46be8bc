import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable, Logger } from '@nestjs/common';
import { together } from '@app/platform';
import { adjustStock } from '../stock/stock.repository.js';
import { lockReservation, setReservation } from './reservation.repository.js';

/** `payment.processed` -> the reservation becomes a sale: stock leaves the shelf. */
@Injectable()
export class SellStockHandler {
  private readonly logger = new Logger(SellStockHandler.name);

  @EventHandler('payment.processed', { id: 'sell-stock' })
  async sell(event: DecodedEvent<'payment.processed'>, context: EventContext): Promise<void> {
    const { orderId } = event.data;
    const reservation = await lockReservation(context.manager, orderId);
    if (reservation.status !== 'RESERVED') {
      this.logger.warn(
        `payment for order ${orderId} but its reservation is ${reservation.status}; nothing sold`,
      );
      return;
    }
    await together(context.manager, () => [
      adjustStock(context.manager, reservation.items, { reserved: -1, onHand: -1 }),
      setReservation(context.manager, orderId, 'SOLD'),
    ]);
    this.logger.log(`order ${orderId} sold`);
  }
}
