import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { DataSource } from 'typeorm';

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

/** Internal: the sent-mail log. */
@Controller('emails')
export class EmailsController {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /emails?to=` -> the log for one recipient (or the latest 200), newest first. */
  @Get()
  async list(@Query('to') to?: string): Promise<SentEmailView[]> {
    if (to !== undefined && (typeof to !== 'string' || to.length > 254)) {
      throw new BadRequestException('to must be one email address.');
    }
    const rows = await this.dataSource.query<
      {
        event_id: string;
        template: string;
        recipient: string;
        subject: string;
        message_id: string;
        status: string;
        attempts: number;
        created_at: Date;
        sent_at: Date | null;
      }[]
    >(
      to
        ? `SELECT * FROM sent_emails WHERE lower(recipient) = lower($1) ORDER BY created_at DESC LIMIT 200`
        : `SELECT * FROM sent_emails ORDER BY created_at DESC LIMIT 200`,
      to ? [to] : [],
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
