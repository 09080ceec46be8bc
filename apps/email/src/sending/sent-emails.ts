import { type EventContext } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type TemplateName } from '../templates/templates.js';

export interface SentEmailView {
  eventId: string;
  template: string;
  to: string;
  subject: string;
  messageId: string;
  status: string;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
}

interface SentEmailRow {
  event_id: string;
  template: string;
  recipient: string;
  subject: string;
  message_id: string;
  status: string;
  attempts: number;
  created_at: Date;
  sent_at: Date | null;
}

/** The sent-mail log (`sent_emails`, its only owner): one row per `(event, template)`. */
@Injectable()
export class SentEmails {
  /**
   * Records a send as started, committed at once beside the handler's transaction (it must
   * survive a crash of the send), or counts one more attempt; returns the row as it now is.
   */
  async start(
    context: Pick<EventContext, 'standalone'>,
    mail: {
      eventId: string;
      template: TemplateName;
      to: string;
      subject: string;
      messageId: string;
    },
  ): Promise<{ status: string; attempts: number } | undefined> {
    const [row] = await context.standalone<{ status: string; attempts: number }>(
      `INSERT INTO sent_emails (event_id, template, recipient, subject, message_id, status)
       VALUES ($1, $2, $3, $4, $5, 'sending')
       ON CONFLICT (event_id, template) DO UPDATE SET attempts = sent_emails.attempts + 1
       RETURNING status, attempts`,
      [mail.eventId, mail.template, mail.to, mail.subject, mail.messageId],
    );
    return row;
  }

  /** Marks a send done, in the handler's transaction. */
  async markSent(manager: EntityManager, eventId: string, template: TemplateName): Promise<void> {
    await manager.query(
      `UPDATE sent_emails SET status = 'sent', sent_at = now() WHERE event_id = $1 AND template = $2`,
      [eventId, template],
    );
  }

  /** The log of one recipient (the latest 200), newest first. */
  async listFor(manager: EntityManager, to: string): Promise<SentEmailView[]> {
    const rows = await manager.query<SentEmailRow[]>(
      `SELECT * FROM sent_emails WHERE lower(recipient) = lower($1) ORDER BY created_at DESC LIMIT 200`,
      [to],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      template: row.template,
      to: row.recipient,
      subject: row.subject,
      messageId: row.message_id,
      status: row.status,
      attempts: row.attempts,
      createdAt: row.created_at.toISOString(),
      sentAt: row.sent_at?.toISOString() ?? null,
    }));
  }
}
