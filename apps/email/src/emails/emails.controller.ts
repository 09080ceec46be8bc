import { InternalCallerGuard } from '@app/platform';
import { BadRequestException, Controller, Get, Query, UseGuards } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SentEmails, type SentEmailView } from '../sending/sent-emails.js';

/** Internal: the sent-mail log. */
@Controller('emails')
@UseGuards(InternalCallerGuard)
export class EmailsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly log: SentEmails,
  ) {}

  /** `GET /emails?to=` -> the log of one recipient (the latest 200), newest first. */
  @Get()
  async list(@Query('to') to?: string): Promise<SentEmailView[]> {
    if (typeof to !== 'string' || to.trim() === '' || to.length > 254) {
      throw new BadRequestException('to is required: the one email address whose mail to list.');
    }
    return this.log.listFor(this.dataSource.manager, to);
  }
}
