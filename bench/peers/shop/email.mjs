// The peer shop's email service: a Nest microservice keeping the recipients it hears of
// (`user_registered`) and sending the confirmation of `order_confirmed` over SMTP with
// nodemailer, then saving a log row (no dedup: a redelivery would send it again).
import { EventPattern, Payload } from '@nestjs/microservices';
import { getRepositoryToken } from '@nestjs/typeorm';
import nodemailer from 'nodemailer';
import { EntitySchema } from 'typeorm';
import { controller, method, startMicroservice } from './nest.mjs';

const Recipient = new EntitySchema({
  name: 'Recipient',
  tableName: 'recipients',
  columns: {
    userId: { type: 'uuid', primary: true },
    email: { type: 'varchar' },
    name: { type: 'varchar' },
  },
});

const SentEmail = new EntitySchema({
  name: 'SentEmail',
  tableName: 'sent_emails',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    orderId: { type: 'uuid' },
    recipient: { type: 'varchar' },
    subject: { type: 'varchar' },
    sentAt: { type: 'timestamptz', createDate: true },
  },
});

const transport = nodemailer.createTransport(process.env.SMTP_URL, { pool: true });

class NotificationsController {
  constructor(recipients, sent) {
    this.recipients = recipients;
    this.sent = sent;
  }

  async registered({ userId, email, name }) {
    await this.recipients.save({ userId, email, name });
  }

  async confirmed({ orderId, customerId, total }) {
    const recipient = await this.recipients.findOneBy({ userId: customerId });
    if (!recipient) return;
    const subject = `Order ${orderId} confirmed`;
    await transport.sendMail({
      from: 'shop@example.test',
      to: recipient.email,
      subject,
      text: `Hello ${recipient.name}, your order of ${(total / 100).toFixed(2)} is confirmed.`,
    });
    await this.sent.save({ orderId, recipient: recipient.email, subject });
  }
}
controller(
  NotificationsController,
  '',
  getRepositoryToken(Recipient),
  getRepositoryToken(SentEmail),
);
method(NotificationsController, 'registered', [EventPattern('user_registered')], [Payload()]);
method(NotificationsController, 'confirmed', [EventPattern('order_confirmed')], [Payload()]);

await startMicroservice('email', {
  entities: [Recipient, SentEmail],
  controllers: [NotificationsController],
});
