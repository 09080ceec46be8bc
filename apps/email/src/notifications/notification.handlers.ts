import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { RecipientDirectory } from '../recipients/recipient-directory.js';
import { EmailSender } from '../sending/email-sender.js';
import { templates } from '../templates/templates.js';

/** One email per event: welcome, order confirmed, payment received, order rejected, order cancelled. */
@Injectable()
export class NotificationHandlers {
  constructor(private readonly sender: EmailSender) {}

  @EventHandler('user.registered')
  async welcome(event: DecodedEvent<'user.registered'>, context: EventContext): Promise<void> {
    const { email, name } = event.data;
    await this.sender.send(
      context,
      event.envelope.id,
      'welcome',
      email,
      templates.welcome({ name }),
    );
  }

  @EventHandler('order.confirmed')
  async orderConfirmed(
    event: DecodedEvent<'order.confirmed'>,
    context: EventContext,
  ): Promise<void> {
    const to = await RecipientDirectory.find(context.manager, event.data.userId);
    await this.sender.send(
      context,
      event.envelope.id,
      'order-confirmed',
      to.email,
      templates['order-confirmed']({ name: to.name, ...event.data }),
    );
  }

  @EventHandler('payment.processed')
  async paymentReceived(
    event: DecodedEvent<'payment.processed'>,
    context: EventContext,
  ): Promise<void> {
    const to = await RecipientDirectory.find(context.manager, event.data.userId);
    await this.sender.send(
      context,
      event.envelope.id,
      'payment-received',
      to.email,
      templates['payment-received']({ name: to.name, ...event.data }),
    );
  }

  @EventHandler('order.rejected')
  async orderRejected(event: DecodedEvent<'order.rejected'>, context: EventContext): Promise<void> {
    const to = await RecipientDirectory.find(context.manager, event.data.userId);
    await this.sender.send(
      context,
      event.envelope.id,
      'order-rejected',
      to.email,
      templates['order-rejected']({ name: to.name, ...event.data }),
    );
  }

  @EventHandler('order.cancelled')
  async orderCancelled(
    event: DecodedEvent<'order.cancelled'>,
    context: EventContext,
  ): Promise<void> {
    const to = await RecipientDirectory.find(context.manager, event.data.userId);
    await this.sender.send(
      context,
      event.envelope.id,
      'order-cancelled',
      to.email,
      templates['order-cancelled']({ name: to.name, ...event.data }),
    );
  }
}
