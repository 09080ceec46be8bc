import { type EventContext } from '@app/messaging';
import { Injectable, Logger } from '@nestjs/common';
import { type RenderedEmail, type TemplateName } from '../templates/templates.js';
import { MailTransport } from './mail-transport.js';
import { SentEmails } from './sent-emails.js';

/** Domain of the Message-IDs. */
export const MESSAGE_ID_DOMAIN = 'commerce.local';

/** `<event id.template@domain>`. */
export const messageIdOf = (eventId: string, template: TemplateName) =>
  `<${eventId}.${template}@${MESSAGE_ID_DOMAIN}>`;

/**
 * SMTP cannot join a database transaction, so a send follows docs/contract.md section 6: record
 * `(event id, template)` as sending (committed at once, so it survives a crash), send with a
 * Message-ID derived from both, then mark it sent in the handler's transaction. A redelivery
 * after a crash mid-way sends again with the same Message-ID: one distinct message per event
 * and template, whatever happens.
 */
@Injectable()
export class EmailSender {
  private readonly logger = new Logger(EmailSender.name);

  constructor(
    private readonly transport: MailTransport,
    private readonly log: SentEmails,
  ) {}

  /** Sends `email` to `to` once per `(event, template)`. */
  async send(
    context: EventContext,
    eventId: string,
    template: TemplateName,
    to: string,
    email: RenderedEmail,
  ): Promise<void> {
    const messageId = messageIdOf(eventId, template);
    const row = await this.log.start(context, {
      eventId,
      template,
      to,
      subject: email.subject,
      messageId,
    });
    if (row?.status === 'sent') return;
    if ((row?.attempts ?? 1) > 1)
      this.logger.warn(
        `Resending ${template} for ${eventId} with the same Message-ID ${messageId}`,
      );
    // A handler out of time sends nothing more: its retry sends instead, so two sends of one
    // mail never overlap.
    context.signal.throwIfAborted();
    await this.transport.send({
      to,
      subject: email.subject,
      text: email.text,
      html: email.html,
      messageId,
    });
    await this.log.markSent(context.manager, eventId, template);
    this.logger.log(`Sent ${template} to recipient of ${eventId}`);
  }
}
