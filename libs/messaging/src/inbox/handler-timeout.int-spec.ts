import { type DecodedEvent } from '@app/events';
import { pipelined, together } from '@app/platform';
import { openTransaction, queryOn, SuiteFixture, waitFor, countOutcomes } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';

/** How a handler misbehaves on its first attempt, by the order's first SKU. */
type Overrun =
  | 'fast'
  | 'two-slow-statements'
  | 'pipelined-after-timeout'
  | 'together-after-timeout'
  | 'slow-statement'
  | 'throws-undefined';

const attempts = new Map<string, number>();
/** The PostgreSQL backend each first attempt ran on. */
const backends = new Map<string, number>();
/** When each attempt's SQL after the overrun failed, and with what. */
const lateFailures = new Map<string, string>();

const insertEffect = (context: EventContext, event: DecodedEvent<'order.placed'>) => ({
  sql: `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('slow', $1, $2, '{}')`,
  params: [event.envelope.id, event.envelope.subject ?? null],
  run: () =>
    context.manager.query(
      `INSERT INTO test_effects (handler, event_id, subject, data) VALUES ('slow', $1, $2, '{}')`,
      [event.envelope.id, event.envelope.subject ?? null],
    ),
});

@Injectable()
class OverrunningHandler {
  @EventHandler('order.placed', { id: 'overrunning' })
  async handle(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    const id = event.envelope.id;
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    const how = event.data.items[0]!.sku as Overrun;
    const effect = insertEffect(context, event);
    if (how === 'throws-undefined') {
      const nothing: unknown = undefined; // the defect under test: a rejection that is not an Error
      throw nothing;
    }
    if (attempt > 1 || how === 'fast') {
      await effect.run();
      return;
    }
    const [row] = await context.manager.query<{ pid: number }[]>(`SELECT pg_backend_pid() AS pid`);
    backends.set(id, row!.pid);
    try {
      switch (how) {
        case 'two-slow-statements':
          // Each statement within the timeout (1 s), the two together past it.
          await context.manager.query(`SELECT pg_sleep(0.6)`);
          await context.manager.query(`SELECT pg_sleep(0.6)`);
          await effect.run();
          return;
        case 'pipelined-after-timeout':
          await sleep(1_300);
          await pipelined(context.manager, [{ sql: effect.sql, params: effect.params }]);
          return;
        case 'together-after-timeout':
          await sleep(1_300);
          await together(context.manager, () => [effect.run()]);
          return;
        case 'slow-statement':
          await context.manager.query(`SELECT pg_sleep(5)`);
          await effect.run();
          return;
      }
    } catch (error) {
      lateFailures.set(
        id,
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      );
      throw error;
    }
  }
}

describe('a handler that overruns HANDLER_TIMEOUT', () => {
  let fixture: SuiteFixture;
  let service: TestService;
  const queue = 'inventory.order.placed';

  beforeAll(async () => {
    fixture = await SuiteFixture.create('timeout');
    service = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [OverrunningHandler],
      messaging: { handlerTimeoutMs: 1_000, retryDelaysMs: [100, 200] },
    });
  });

  afterAll(async () => {
    await service?.close();
    await fixture?.dispose();
  });

  const place = async (how: Overrun) => {
    const event = orderPlaced({ items: [{ sku: how, quantity: 1, unitPriceCents: 100 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    return event;
  };
  const effectsOf = async (id: string) =>
    (await effects(service.dataSource, 'slow')).filter((row) => row.event_id === id);
  const inboxRows = async (id: string) =>
    (
      await service.dataSource.query<{ n: string }[]>(
        `SELECT count(*) AS n FROM messaging_inbox WHERE event_id = $1`,
        [id],
      )
    )[0]!.n;

  /** Waits for the retry's effect, then long enough for a late first attempt to have committed. */
  const settled = async (id: string) => {
    await waitFor('the retry to apply the effect', async () => (await effectsOf(id)).length >= 1);
    await sleep(2_000);
  };

  it('leaves no trace of statements it issues after the timeout: its retry applies the effect once', async () => {
    const event = await place('two-slow-statements');
    await settled(event.id);
    expect(await effectsOf(event.id)).toHaveLength(1);
    expect(await inboxRows(event.id)).toBe('1');
    expect(attempts.get(event.id)).toBe(2);
  });

  it('fails a pipelined batch issued after the timeout', async () => {
    const event = await place('pipelined-after-timeout');
    await settled(event.id);
    expect(await effectsOf(event.id)).toHaveLength(1);
    expect(lateFailures.get(event.id)).toMatch(/ended|released/i);
  });

  it('fails statements issued together after the timeout', async () => {
    const event = await place('together-after-timeout');
    await settled(event.id);
    expect(await effectsOf(event.id)).toHaveLength(1);
    expect(lateFailures.get(event.id)).toMatch(/ended|released/i);
  });

  it('ends the connection of a statement still running at the timeout instead of pooling it', async () => {
    const event = await place('slow-statement');
    await waitFor('the first attempt to start', () => backends.has(event.id));
    const pid = backends.get(event.id)!;
    // Terminated at the timeout (1 s), not left running pg_sleep(5) or returned to the pool.
    // Either of those keeps the backend for more than 15 s (the sleep, then pg's 10 s idle
    // timeout), so 7 s tells them apart with room for a loaded machine.
    await waitFor(
      'the timed-out backend to be gone',
      async () =>
        (
          await queryOn<{ n: number }>(
            fixture.database.url,
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`,
            [pid],
          )
        )[0]!.n === 0,
      { timeoutMs: 7_000 },
    );
    await settled(event.id);
    expect(await effectsOf(event.id)).toHaveLength(1);
  });

  it("bounds the inbox insert's wait on a peer's open transaction holding the same key", async () => {
    const event = orderPlaced({ items: [{ sku: 'fast', quantity: 1, unitPriceCents: 100 }] });
    // As a peer replica would, mid-way through the same event: the inbox row inserted, uncommitted.
    const peer = await openTransaction(fixture.database.url);
    await peer.query(`INSERT INTO messaging_inbox (consumer, event_id) VALUES ($1, $2)`, [
      'inventory:overrunning',
      event.id,
    ]);
    const outcomes = countOutcomes(service.messaging);
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    try {
      // The insert waits on the peer's row lock: within the handler's time, it gives up.
      await waitFor('a retry instead of an unbounded wait', () => outcomes.retried > 0, {
        timeoutMs: 5_000,
      });
    } finally {
      await peer.end('rollback');
    }
    await settled(event.id);
    expect(await effectsOf(event.id)).toHaveLength(1);
  });

  it('turns a rejection that is not an Error into one retry or dead-letter copy per attempt', async () => {
    const event = await place('throws-undefined');
    const [dead] = await waitFor('the dead letter', async () => {
      const messages = await fixture.probe.drain(`${queue}.dlq`);
      return messages.length ? messages : undefined;
    });
    expect(dead!.properties.headers?.['x-exception-type']).toBe('handler-error');
    expect(String(dead!.properties.headers?.['x-exception-message'])).toMatch(/undefined/);
    // Long enough for a multiplying copy to come back from every wait queue.
    await sleep(1_500);
    expect(await fixture.probe.drain(`${queue}.dlq`)).toHaveLength(0);
    for (const wait of [`inventory.retry.1-100ms`, `inventory.retry.2-200ms`, queue])
      expect(await fixture.probe.depth(wait)).toBe(0);
    // The first run and one per retry level.
    expect(attempts.get(event.id)).toBe(3);
  });
});
