import { type DecodedEvent } from '@app/events';
import { SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';
import { handlerConcurrencyFor } from './transactional-runner.js';

/** Like email's sender: a statement committed on its own while the handler's transaction is open. */
@Injectable()
class MarkerThenEffectHandler {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @EventHandler('order.placed', { id: 'slow-send' })
  async handle(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    // The SMTP round trip of email: long enough for the burst to pile up beside it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await this.dataSource.query(`SELECT 1`);
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('marker', $1, $2, '{}')`,
      [event.envelope.id, event.envelope.subject ?? null],
    );
  }
}

describe('handler transactions leave pool headroom', () => {
  let fixture: SuiteFixture;
  let service: TestService;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('headroom');
    // A pool of 4 and a prefetch of 40: without the limit, 4 handlers would each hold a
    // connection and wait forever (until the 5 s handler timeout) for a second one, again on every retry.
    service = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [MarkerThenEffectHandler],
      poolSize: 4,
      messaging: { prefetch: 40, handlerTimeoutMs: 5_000 },
    });
  });

  afterAll(async () => {
    await service?.close();
    await fixture?.dispose();
  });

  it('keeps connections free beside the handler transactions', () => {
    expect(handlerConcurrencyFor(4)).toBe(2);
    expect(handlerConcurrencyFor(20)).toBe(16);
    expect(handlerConcurrencyFor(1)).toBe(1);
  });

  it('handles a burst whose handlers each need a second connection, and stays queryable', async () => {
    const events = Array.from({ length: 40 }, () => orderPlaced());
    for (const event of events)
      await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor(
      'every effect',
      async () => (await effects(service.dataSource, 'marker')).length === 40,
      {
        timeoutMs: 20_000,
      },
    );
    expect(
      new Set((await effects(service.dataSource, 'marker')).map((row) => row.event_id)),
    ).toEqual(new Set(events.map((event) => event.id)));
  });
});
