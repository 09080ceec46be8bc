import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { RecipientDirectory } from '../recipients/recipient-directory.js';
import { EmailSender } from '../sending/email-sender.js';
import { type RenderedEmail, type TemplateName, templates } from '../templates/templates.js';

/** One email per event: welcome, order confirmed, payment received, order rejected, order cancelled. */
@Injectable()
export class NotificationHandlers {
  constructor(
    private readonly sender: EmailSender,
    private readonly recipients: RecipientDirectory,
  ) {}

  @EventHandler('user.registered', { id: 'welcome-email' })
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

  @EventHandler('order.confirmed', { id: 'order-confirmed-email' })
  orderConfirmed(event: DecodedEvent<'order.confirmed'>, context: EventContext): Promise<void> {
    return this.toUser(context, event, 'order-confirmed', (name) =>
      templates['order-confirmed']({ name, ...event.data }),
    );
  }

  @EventHandler('payment.processed', { id: 'payment-received-email' })
  paymentReceived(event: DecodedEvent<'payment.processed'>, context: EventContext): Promise<void> {
    return this.toUser(context, event, 'payment-received', (name) =>
      templates['payment-received']({ name, ...event.data }),
    );
  }

  @EventHandler('order.rejected', { id: 'order-rejected-email' })
  orderRejected(event: DecodedEvent<'order.rejected'>, context: EventContext): Promise<void> {
    return this.toUser(context, event, 'order-rejected', (name) =>
      templates['order-rejected']({ name, ...event.data }),
    );
  }

  @EventHandler('order.cancelled', { id: 'order-cancelled-email' })
  orderCancelled(event: DecodedEvent<'order.cancelled'>, context: EventContext): Promise<void> {
    return this.toUser(context, event, 'order-cancelled', (name) =>
      templates['order-cancelled']({ name, ...event.data }),
    );
  }

  /** Looks the user up in the directory (retryable when unknown yet) and sends once. */
  private async toUser(
    context: EventContext,
    event: { envelope: { id: string }; data: { userId: string } },
    template: TemplateName,
    render: (name: string) => RenderedEmail,
  ): Promise<void> {
    const to = await this.recipients.find(context.manager, event.data.userId);
    await this.sender.send(context, event.envelope.id, template, to.email, render(to.name));
  }
}
