import { SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<event id.template@domain>`: a resend of the same mail carries the same id. */
  messageId: string;
}

/** Folder of the `.eml` files written when `SMTP_URL` is unset. */
export const MAIL_DIR = join(process.cwd(), 'var', 'mail');

/**
 * Sends over SMTP (`SMTP_URL`), or writes `.eml` files under `var/mail/` when it is unset.
 * SMTP connections are pooled (up to 5, each reused for 100 mails) unless the URL says
 * `?pool=false`: a connection per mail cost CPU (email's share at 100 orders/s fell from 30
 * to 26% with pooling) and fell behind at 200 orders/s (docs/benchmarks.md).
 */
@Injectable()
export class MailTransport implements OnModuleDestroy {
  private readonly logger = new Logger(MailTransport.name);
  private readonly transporter: Transporter;
  private readonly toFiles: boolean;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {
    this.toFiles = !config.smtpUrl;
    this.transporter = config.smtpUrl
      ? nodemailer.createTransport({ url: config.smtpUrl, pool: true }, { from: config.smtpFrom })
      : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    if (this.toFiles) this.logger.warn(`SMTP_URL is not set: emails are written to ${MAIL_DIR}`);
  }

  /** Sends one message; rejects when the SMTP server refuses it (the handler retries). */
  async send(mail: OutgoingMail): Promise<void> {
    const info = (await this.transporter.sendMail({ from: this.config.smtpFrom, ...mail })) as {
      message?: Buffer;
    };
    if (this.toFiles && info.message) {
      await mkdir(MAIL_DIR, { recursive: true });
      await writeFile(
        join(MAIL_DIR, `${mail.messageId.replace(/[<>]/g, '').replace(/[^\w.@-]/g, '_')}.eml`),
        info.message,
      );
    }
  }

  onModuleDestroy(): void {
    this.transporter.close();
  }
}
