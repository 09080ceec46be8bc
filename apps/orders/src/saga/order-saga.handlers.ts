import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { OrderCommandService } from '../order-store/order-command.service.js';

/** The order saga's reactions to inventory: confirm or reject a pending order. */
@Injectable()
export class OrderSagaHandlers {
  constructor(private readonly commands: OrderCommandService) {}

  @EventHandler('inventory.reserved', { id: 'saga-stock-reserved' })
  async reserved(event: DecodedEvent<'inventory.reserved'>, context: EventContext): Promise<void> {
    await this.commands.executeIn(
      context.manager,
      { type: 'ConfirmOrder', orderId: event.data.orderId },
      { correlationId: context.correlationId, causationId: event.envelope.id },
    );
  }

  @EventHandler('inventory.reservation-failed', { id: 'saga-reservation-failed' })
  async reservationFailed(
    event: DecodedEvent<'inventory.reservation-failed'>,
    context: EventContext,
  ): Promise<void> {
    await this.commands.executeIn(
      context.manager,
      {
        type: 'RejectOrder',
        orderId: event.data.orderId,
        reason: event.data.reason,
        shortSkus: event.data.shortSkus,
      },
      { correlationId: context.correlationId, causationId: event.envelope.id },
    );
  }
}
