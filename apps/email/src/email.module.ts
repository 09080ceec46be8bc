import {
  brokerCheck,
  MESSAGING_MIGRATIONS,
  MessagingModule,
  MessagingService,
  messagingOptionsFrom,
} from '@app/messaging';
import {
  databaseCheck,
  databaseModule,
  HealthController,
  MetricsController,
  READINESS_CHECKS,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { EmailsController } from './emails/emails.controller.js';
import { EMAIL_MIGRATIONS } from './migrations/1764300000000-create-email.js';
import { NotificationHandlers } from './notifications/notification.handlers.js';
import { RecipientDirectory } from './recipients/recipient-directory.js';
import { EmailSender } from './sending/email-sender.js';
import { MailTransport } from './sending/mail-transport.js';

/** The email service: recipient directory and notification emails. */
@Module({})
export class EmailModule {
  static forRoot(config: ServiceConfig): DynamicModule {
    return {
      module: EmailModule,
      imports: [
        TerminusModule.forRoot({ logger: false }),
        databaseModule(config, [...MESSAGING_MIGRATIONS, ...EMAIL_MIGRATIONS]),
        MessagingModule.forRoot({ ...messagingOptionsFrom(config), isGlobal: true }),
      ],
      controllers: [HealthController, MetricsController, EmailsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        {
          provide: READINESS_CHECKS,
          useFactory: (dataSource: DataSource, messaging: MessagingService) => [
            databaseCheck(dataSource),
            brokerCheck(messaging),
          ],
          inject: [DataSource, MessagingService],
        },
        MailTransport,
        EmailSender,
        RecipientDirectory,
        NotificationHandlers,
      ],
    };
  }
}
