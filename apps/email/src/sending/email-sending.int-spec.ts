import { createEvent, type EventPayloads, type EventType } from '@app/events';
import { MessagingService } from '@app/messaging';
import {
  type RunningServiceApp,
  startServiceApp,
  startSmtpSink,
  SuiteFixture,
  TcpProxy,
  waitFor,
  countOutcomes,
} from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EmailModule } from '../email.module.js';
import { messageIdOf } from './email-sender.js';

describe('email against RabbitMQ, PostgreSQL and an SMTP server', () => {
  let fixture: SuiteFixture;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let email: RunningServiceApp;
  let dataSource: DataSource;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('email');
    smtp = await startSmtpSink();
    email = await startServiceApp('email', (config) => EmailModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      RETRY_DELAYS: '200ms,400ms,800ms',
    });
    dataSource = email.app.get(DataSource);
  });

  afterAll(async () => {
    await email?.close();
    await smtp?.close();
    await fixture?.dispose();
  });

  const publish = <K extends EventType>(
    type: K,
    data: EventPayloads[K],
    source: 'users' | 'orders',
  ) => {
    const event = createEvent(type, data, { source });
    fixture.probe.publishEvent(event);
    return event;
  };
  const register = (userId: string, address: string) =>
    publish('user.registered', { userId, email: address, name: 'Ada' }, 'users');
  const mailsTo = (address: string) => smtp.mails.filter((mail) => mail.to.includes(address));

  it('sends a welcome email with a Message-ID derived from the event and template', async () => {
    const address = `welcome-${randomUUID().slice(0, 8)}@example.com`;
    const event = register(randomUUID(), address);
    const [mail] = await waitFor('the welcome email', () =>
      mailsTo(address).length ? mailsTo(address) : undefined,
    );
    expect(mail!.messageId).toBe(messageIdOf(event.id, 'welcome'));
    expect(mail!.subject).toBe('Welcome to Commerce');
    expect(mail!.raw).toContain('text/html');
  });

  it('retries an email for a recipient not known yet, and sends it once the user is known', async () => {
    const outcomes = countOutcomes(email.app.get(MessagingService));
    const userId = randomUUID();
    const address = `late-${randomUUID().slice(0, 8)}@example.com`;
    const confirmed = publish(
      'order.confirmed',
      { orderId: randomUUID(), userId, totalCents: 1234, currency: 'EUR' },
      'orders',
    );
    await waitFor('a retry for the unknown recipient', () => outcomes.retried > 0);
    expect(mailsTo(address)).toHaveLength(0);
    register(userId, address);
    const mail = await waitFor('the order email after its retry', () =>
      mailsTo(address).find((m) => m.messageId === messageIdOf(confirmed.id, 'order-confirmed')),
    );
    expect(mail.raw).toContain('12.34 EUR');
  });

  it('resends with the same Message-ID after a crash between sending and marking sent', async () => {
    const outcomes = countOutcomes(email.app.get(MessagingService));
    const userId = randomUUID();
    const address = `resend-${randomUUID().slice(0, 8)}@example.com`;
    register(userId, address);
    await waitFor('the recipient', () => mailsTo(address).length === 1);
    const event = createEvent(
      'order.cancelled',
      { orderId: randomUUID(), userId, reason: 'customer' },
      { source: 'orders' },
    );
    // As left by a process that died after its SMTP send and before its commit.
    await dataSource.query(
      `INSERT INTO sent_emails (event_id, template, recipient, subject, message_id, status) VALUES ($1, 'order-cancelled', $2, 's', $3, 'sending')`,
      [event.id, address, messageIdOf(event.id, 'order-cancelled')],
    );
    for (let i = 0; i < 2; i += 1) {
      fixture.probe.publishEvent(event);
    }
    const [row] = await waitFor('the resend', async () => {
      const rows = await dataSource.query<{ status: string; attempts: number }[]>(
        `SELECT status, attempts FROM sent_emails WHERE event_id = $1`,
        [event.id],
      );
      return rows[0]?.status === 'sent' ? rows : undefined;
    });
    expect(row!.attempts).toBe(2);
    await waitFor(
      'the second delivery to be skipped as a duplicate',
      () => outcomes.duplicates >= 1,
    );
    const cancelled = mailsTo(address).filter((m) => m.subject.includes('cancelled'));
    expect(cancelled.map((m) => m.messageId)).toEqual([messageIdOf(event.id, 'order-cancelled')]);
  });

  it('lists the sent-mail log for one recipient, newest first', async () => {
    const userId = randomUUID();
    const address = `log-${randomUUID().slice(0, 8)}@example.com`;
    register(userId, address);
    await waitFor('the welcome email', () => mailsTo(address).length === 1);
    const paid = publish(
      'payment.processed',
      { paymentId: randomUUID(), orderId: randomUUID(), userId, amountCents: 500, currency: 'EUR' },
      'orders',
    );
    await waitFor('two emails', () => mailsTo(address).length === 2);
    const log = (await (
      await fetch(email.url(`/emails?to=${encodeURIComponent(address.toUpperCase())}`))
    ).json()) as {
      template: string;
      eventId: string;
      status: string;
    }[];
    expect(log.map((entry) => entry.template)).toEqual(['payment-received', 'welcome']);
    expect(log[0]).toMatchObject({ eventId: paid.id, status: 'sent' });
  });
});

describe('email handler errors', () => {
  it('reach the dead-letter queue as the handler threw them, not rewritten by HTTP filters', async () => {
    const fixture = await SuiteFixture.create('email_dlq');
    const app = await startServiceApp('email', (config) => EmailModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      RETRY_DELAYS: '50ms',
    });
    try {
      const event = createEvent(
        'order.rejected',
        { orderId: randomUUID(), userId: randomUUID(), reason: 'short', shortSkus: [] },
        { source: 'orders' },
      );
      fixture.probe.publishEvent(event);
      const [dead] = await waitFor('the dead letter', async () => {
        const messages = await fixture.probe.drain('email.order.rejected.dlq');
        return messages.length ? messages : undefined;
      });
      expect(String(dead!.properties.headers?.['x-exception-message'])).toMatch(
        /^UnknownRecipientError: Recipient of user/,
      );
    } finally {
      await app.close();
      await fixture.dispose();
    }
  });
});

describe('email with an SMTP server that hangs', () => {
  it('gives each send up well within HANDLER_TIMEOUT, so no two sends of a mail overlap', async () => {
    const fixture = await SuiteFixture.create('email_smtp_hang');
    const smtp = await startSmtpSink();
    const proxy = await TcpProxy.start('127.0.0.1', smtp.port);
    proxy.freeze();
    const app = await startServiceApp('email', (config) => EmailModule.forRoot(config), {
      AMQP_URL: fixture.vhost.url,
      DATABASE_URL: fixture.database.url,
      SMTP_URL: `smtp://127.0.0.1:${proxy.port}`,
      HANDLER_TIMEOUT: '3s',
      RETRY_DELAYS: '100ms,200ms,400ms,800ms',
    });
    try {
      const address = `hang-${randomUUID().slice(0, 8)}@example.com`;
      const event = createEvent(
        'user.registered',
        { userId: randomUUID(), email: address, name: 'Ada' },
        { source: 'users' },
      );
      fixture.probe.publishEvent(event);
      await waitFor('three attempts at the hanging server', () =>
        proxy.connections.filter((c) => c.closedAt).length >= 3 ? true : undefined,
      );
      proxy.restore();
      const mail = await waitFor('the welcome email once the server answers', () =>
        smtp.mails.find((m) => m.messageId === messageIdOf(event.id, 'welcome')),
      );
      expect(mail.to).toEqual([address]);
      // Each attempt's connection was closed (its send given up) before the next one opened.
      const attempts = [...proxy.connections].sort((a, b) => a.openedAt - b.openedAt);
      for (const [previous, next] of attempts.slice(0, -1).map((c, i) => [c, attempts[i + 1]!]))
        expect(next!.openedAt).toBeGreaterThanOrEqual(previous!.closedAt ?? Infinity);
      expect(smtp.mails.filter((m) => m.to.includes(address))).toHaveLength(1);
    } finally {
      await app.close();
      await proxy.close();
      await smtp.close();
      await fixture.dispose();
    }
  });
});
