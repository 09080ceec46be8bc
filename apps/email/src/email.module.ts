import { serviceModule } from '@app/service';
import { type ServiceConfig } from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { EmailsController } from './emails/emails.controller.js';
import { EMAIL_MIGRATIONS } from './migrations/index.js';
import { NotificationHandlers } from './notifications/notification.handlers.js';
import { RecipientDirectory } from './recipients/recipient-directory.js';
import { EmailSender } from './sending/email-sender.js';
import { MailTransport } from './sending/mail-transport.js';
import { SentEmails } from './sending/sent-emails.js';

/** The email service: recipient directory and notification emails. */
@Module({})
export class EmailModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return serviceModule(EmailModule, config, {
      migrations: EMAIL_MIGRATIONS,
      readiness: 'database-and-broker',
      metricsOnMainPort: true,
      controllers: [EmailsController],
      // RecipientDirectory first: on user.registered it runs before the welcome email.
      providers: [MailTransport, SentEmails, EmailSender, RecipientDirectory, NotificationHandlers],
    });
  }
}
