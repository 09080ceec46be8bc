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

/**
 * The SMTP connect, greeting and socket timeouts: a third of `HANDLER_TIMEOUT` (at least a
 * second). nodemailer's defaults (2 minutes to connect, 10 to stall) are far above the
 * handler's time: a stalled server would keep a send going after its handler timed out, and
 * the retry's send would overlap it. A third leaves the handler time to record the failure.
 */
export function smtpTimeoutMs(handlerTimeoutMs: number): number {
  return Math.max(1_000, Math.floor(handlerTimeoutMs / 3));
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
    const timeout = smtpTimeoutMs(config.handlerTimeoutMs);
    this.transporter = config.smtpUrl
      ? nodemailer.createTransport(
          {
            url: config.smtpUrl,
            pool: true,
            connectionTimeout: timeout,
            greetingTimeout: timeout,
            socketTimeout: timeout,
            // A failed send fails the handler at once (its retry sends again), instead of the
            // pool requeueing it up to five times past the handler's time.
            maxRequeues: 0,
          },
          { from: config.smtpFrom },
        )
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
