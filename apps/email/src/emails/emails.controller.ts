import { InternalCallerGuard } from '@app/platform';
import { BadRequestException, Controller, Get, Query, UseGuards } from '@nestjs/common';
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
@UseGuards(InternalCallerGuard)
export class EmailsController {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /emails?to=` -> the log of one recipient (the latest 200), newest first. */
  @Get()
  async list(@Query('to') to?: string): Promise<SentEmailView[]> {
    if (typeof to !== 'string' || to.trim() === '' || to.length > 254) {
      throw new BadRequestException('to is required: the one email address whose mail to list.');
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
