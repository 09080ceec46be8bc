import { BrokerProbe, SuiteFixture } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { startService } from '../../test/harness.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';

@Injectable()
class ConfirmedHandler {
  @EventHandler('order.confirmed', { id: 'confirmed' })
  async handle(): Promise<void> {}
}

describe('Topology declaration against RabbitMQ', () => {
  let fixture: SuiteFixture;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('topology');
  });

  afterAll(async () => {
    await fixture?.dispose();
  });

  it('stops boot with a message naming the argument when a queue exists with other arguments', async () => {
    const probe = await BrokerProbe.open(fixture.vhost.url);
    await probe.channel.assertQueue('email.order.confirmed', {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 3,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
        'x-dead-letter-exchange': 'email.dlx',
        'x-dead-letter-routing-key': 'email.order.confirmed',
      },
    });
    await probe.close();
    await expect(
      startService({
        service: 'email',
        amqpUrl: fixture.vhost.url,
        databaseUrl: fixture.database.url,
        providers: [ConfirmedHandler],
      }),
    ).rejects.toThrow(
      /Queue "email.order.confirmed" exists with a different x-delivery-limit \(this service declares 10, the broker has 3\)/,
    );
  });

  it('applies the same topology twice without complaint (idempotent on reconnect)', async () => {
    const first = await startService({
      service: 'users',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      messaging: { deliveryLimit: 7 },
    });
    await first.close();
    const second = await startService({
      service: 'users',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      messaging: { deliveryLimit: 7 },
    });
    expect(second.messaging.isBrokerReady()).toBe(true);
    await second.close();
  });
});
