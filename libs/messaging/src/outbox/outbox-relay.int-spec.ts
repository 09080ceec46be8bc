import { createTestDatabase, type TestDatabase, waitFor } from '@app/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { orderPlaced } from '../../test/harness.js';
import { MESSAGING_MIGRATIONS } from '../database/messaging-tables.migration.js';
import { type OutgoingMessage } from '../publisher/amqp-message.js';
import { type ConfirmedPublisher } from '../publisher/confirmed-publisher.js';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay } from './outbox-relay.js';

/**
 * The relay's rounds against PostgreSQL, with a publisher that only records what it is given
 * (the broker side of the relay is covered by outbox.int-spec.ts): what each round sends to
 * the database, and that nothing published is published again or left unmarked.
 */
describe('OutboxRelay rounds against PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let published: string[];
  let statements: string[];
  const publisher = {
    publish: (message: OutgoingMessage) => {
      published.push(message.properties.messageId);
      return Promise.resolve();
    },
  } as unknown as ConfirmedPublisher;
  /** The relay's database, counting the statements it is sent. */
  const counting = {
    query: (sql: string, params?: unknown[]) => {
      statements.push(sql);
      return dataSource.query(sql, params);
    },
  };
  const relayOf = () => new OutboxRelay(dataSource, publisher, () => true);

  const enqueue = async (count: number) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const event = orderPlaced();
      ids.push(event.id);
      await dataSource.query(
        `INSERT INTO messaging_outbox (event_id, type, exchange, mandatory, payload)
         VALUES ($1, $2, 'orders.events', true, $3)`,
        [event.id, event.type, JSON.stringify(event)],
      );
    }
    return ids;
  };
  const unsent = async () =>
    (
      await dataSource.query<{ event_id: string }[]>(
        `SELECT event_id FROM messaging_outbox WHERE sent_at IS NULL ORDER BY position`,
      )
    ).map((row) => row.event_id);

  beforeAll(async () => {
    database = await createTestDatabase('relay');
    dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: MESSAGING_MIGRATIONS,
      logging: false,
    });
    await dataSource.initialize();
    await dataSource.runMigrations();
  });

  beforeEach(() => {
    published = [];
    statements = [];
  });

  afterEach(async () => {
    await dataSource.query(`DELETE FROM messaging_outbox`);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  it('sends one statement a round: the next read marks the rows the round before published', async () => {
    const relay = relayOf();
    const first = await enqueue(3);
    expect(await relay.relayOnce(counting)).toBe(3);
    expect(statements).toHaveLength(1);
    expect(published).toEqual(first);
    // Published and confirmed, marked by the next round's read.
    expect(await unsent()).toEqual(first);

    const second = await enqueue(2);
    expect(await relay.relayOnce(counting)).toBe(2);
    expect(statements).toHaveLength(2);
    expect(published).toEqual([...first, ...second]);
    expect(await unsent()).toEqual(second);

    expect(await relay.relayOnce(counting)).toBe(0);
    expect(statements).toHaveLength(3);
    expect(await unsent()).toEqual([]);
    expect(published).toHaveLength(5);
  });

  it('never publishes a row twice while its mark waits for the next round', async () => {
    const relay = relayOf();
    const [a] = await enqueue(1);
    await relay.relayOnce(counting);
    // The row is still unmarked in the table when this round reads: it must skip it.
    expect(await unsent()).toEqual([a]);
    const [b] = await enqueue(1);
    await relay.relayOnce(counting);
    expect(published).toEqual([a, b]);
  });

  it('marks what it published before it stops and gives its lock up', async () => {
    const relay = new OutboxRelay(dataSource, publisher, () => true, {
      ...DEFAULT_OUTBOX_RELAY_OPTIONS,
      // No second round comes to mark it: only stopping does.
      pollIntervalMs: 60_000,
    });
    const ids = await enqueue(2);
    relay.start();
    await waitFor('the relay to publish both', () => published.length === 2);
    expect(await unsent()).toEqual(ids);
    await relay.stop();
    expect(await unsent()).toEqual([]);
    expect(published).toEqual(ids);
  });

  it('marks what it published when it can no longer publish', async () => {
    let canPublish = true;
    const relay = new OutboxRelay(dataSource, publisher, () => canPublish);
    const ids = await enqueue(1);
    await relay.relayOnce(counting);
    expect(await unsent()).toEqual(ids);
    canPublish = false;
    expect(await relay.relayOnce(counting)).toBe(0);
    expect(await unsent()).toEqual([]);
  });
});
