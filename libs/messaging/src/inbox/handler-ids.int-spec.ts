import { type DecodedEvent } from '@app/events';
import { metricsRegistry } from '@app/platform';
import { SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import {
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';
import { inboxConsumerRenames } from '../database/inbox-renames.migration.js';

const record = async (event: DecodedEvent<'order.placed'>, context: EventContext) => {
  await context.manager.query(
    `INSERT INTO test_effects (handler, event_id, data) VALUES ('reserve', $1, '{}')`,
    [event.envelope.id],
  );
};

@Injectable()
class ReserveStockHandler {
  @EventHandler('order.placed', { id: 'reserve-stock' })
  reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    return record(event, context);
  }
}

/** The same handler after a refactoring renamed its class and method. */
@Injectable()
class StockReservations {
  @EventHandler('order.placed', { id: 'reserve-stock' })
  onOrderPlaced(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    return record(event, context);
  }
}

/** The key the release before handler ids gave `ReserveStockHandler.reserve`. */
const FORMER = 'inventory:ReserveStockHandler.reserve';
const CURRENT = 'inventory:reserve-stock';
const Renames = inboxConsumerRenames('TestHandlerIds1796000000099', { [FORMER]: CURRENT });

describe('handler ids: the inbox survives renames and the upgrade to ids', () => {
  let fixture: SuiteFixture;
  let service: TestService | undefined;
  /** A connection as a replica still running the release before would use. */
  let previousRelease: Client;
  const queue = 'inventory.order.placed';

  const start = async (handler: typeof ReserveStockHandler | typeof StockReservations) => {
    await stop();
    service = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [handler],
    });
  };
  async function stop() {
    await service?.close();
    service = undefined;
  }
  /** Deliveries of the queue the inbox skipped (`messaging_inbox_duplicates_total`). */
  const skipped = async () => {
    const metric = await metricsRegistry.getSingleMetric('messaging_inbox_duplicates_total')?.get();
    return (metric?.values ?? [])
      .filter((value) => value.labels.queue === queue)
      .reduce((sum, value) => sum + value.value, 0);
  };
  /** Publishes the event and waits until the consumer has handled it or skipped it. */
  const deliver = async (event: ReturnType<typeof orderPlaced>) => {
    const skippedBefore = await skipped();
    const handledBefore = await timesHandled(event.id);
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor(
      `${event.id} handled or skipped`,
      async () =>
        (await timesHandled(event.id)) > handledBefore || (await skipped()) > skippedBefore,
    );
  };
  const timesHandled = async (id: string) =>
    (await effects(service!.dataSource)).filter((row) => row.event_id === id).length;
  /** The inbox insert of the release before: true when it found the event already handled. */
  const previousReleaseSeesDuplicate = async (id: string) =>
    (
      await previousRelease.query(
        `INSERT INTO messaging_inbox (consumer, event_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [FORMER, id],
      )
    ).rowCount === 0;
  const inboxKeysOf = async (id: string) =>
    (
      await previousRelease.query<{ consumer: string }>(
        `SELECT consumer FROM messaging_inbox WHERE event_id = $1 ORDER BY consumer`,
        [id],
      )
    ).rows.map((row) => row.consumer);
  const migrate = async (direction: 'up' | 'down') => {
    const runner = service!.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await new Renames()[direction](runner);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
  };

  beforeAll(async () => {
    fixture = await SuiteFixture.create('handler-ids');
    previousRelease = new Client({ connectionString: fixture.database.url });
    await previousRelease.connect();
  });

  afterAll(async () => {
    await stop();
    await previousRelease?.end();
    await fixture?.dispose();
  });

  it('a handler whose class and method are renamed keeps its id and skips what it handled', async () => {
    const event = orderPlaced();
    await start(ReserveStockHandler);
    await deliver(event);
    await stop();
    await start(StockReservations);
    await deliver(event);
    expect(await timesHandled(event.id)).toBe(1);
  });

  it('the migration carries events handled under the former key over, and a replica of the release before dedups against the new key', async () => {
    await start(ReserveStockHandler);
    // Handled by the release before, under its key.
    const before = orderPlaced();
    expect(await previousReleaseSeesDuplicate(before.id)).toBe(false);

    await migrate('up');
    expect(await inboxKeysOf(before.id)).toEqual([CURRENT]);
    await deliver(before);
    expect(await timesHandled(before.id)).toBe(0);

    // Rolling upgrade: a replica of the release before handles an event after the migration...
    const during = orderPlaced();
    expect(await previousReleaseSeesDuplicate(during.id)).toBe(false);
    expect(await inboxKeysOf(during.id)).toEqual([CURRENT]);
    await deliver(during);
    expect(await timesHandled(during.id)).toBe(0);

    // ...and finds there what the new release handled.
    const after = orderPlaced();
    await deliver(after);
    expect(await timesHandled(after.id)).toBe(1);
    expect(await previousReleaseSeesDuplicate(after.id)).toBe(true);
    expect(await inboxKeysOf(after.id)).toEqual([CURRENT]);
  });

  it('reverts: down moves the rows back and the former key is stored as it is again', async () => {
    await migrate('down');
    const keys = await previousRelease.query<{ consumer: string; n: string }>(
      `SELECT consumer, count(*) AS n FROM messaging_inbox GROUP BY consumer ORDER BY consumer`,
    );
    expect(keys.rows.map((row) => row.consumer)).toEqual([FORMER]);
    const later = orderPlaced();
    expect(await previousReleaseSeesDuplicate(later.id)).toBe(false);
    expect(await inboxKeysOf(later.id)).toEqual([FORMER]);
  });
});
