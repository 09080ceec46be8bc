import { SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { orderPlaced, publishRaw } from '../../test/harness.js';

const consumerScript = join(
  import.meta.dirname,
  '..',
  '..',
  'test',
  'fixtures',
  'crashing-consumer.ts',
);
const root = join(import.meta.dirname, '..', '..', '..', '..');

describe('A handler that kills its own process', () => {
  let fixture: SuiteFixture;
  let db: pg.Client;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('crash');
    db = new pg.Client({ connectionString: fixture.database.url });
    await db.connect();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await db?.end();
    await fixture?.dispose();
  });

  /** Starts the consumer process; resolves when it is ready, with a promise of its exit. */
  const launch = async (extraEnv: Record<string, string> = {}) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', consumerScript], {
      cwd: root,
      env: {
        ...process.env,
        AMQP_URL: fixture.vhost.url,
        DATABASE_URL: fixture.database.url,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = process_;
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      process_.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    let output = '';
    process_.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      process_.stdout.on(
        'data',
        (chunk: Buffer) => chunk.toString().includes('ready') && resolve(),
      );
      void exited.then((how) =>
        reject(new Error(`consumer exited before it was ready (${String(how)})`)),
      );
    });
    return { process: process_, exited, output: () => output };
  };

  it('ends in the DLQ within the retry budget while its prefetched neighbours are handled once', async () => {
    let running = await launch();

    const normal = Array.from({ length: 30 }, () => orderPlaced());
    const poison = orderPlaced({ items: [{ sku: 'POISON', quantity: 1, unitPriceCents: 1 }] });
    for (const [index, event] of normal.entries()) {
      if (index === 5) await publishRaw(fixture.probe, 'orders.events', 'order.placed', poison);
      await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    }

    let crashes = 0;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const outcome = await Promise.race([
        running.exited.then(() => 'crashed' as const),
        waitFor(
          'the work to finish',
          async () => {
            const { rows } = await db.query<{ n: string }>(
              `SELECT count(DISTINCT event_id) AS n FROM test_effects`,
            );
            return (
              Number(rows[0]!.n) === normal.length &&
              (await fixture.probe.depth('inventory.order.placed.dlq')) === 1
            );
          },
          { timeoutMs: 120_000 },
        ).then(() => 'done' as const),
      ]);
      if (outcome === 'done') break;
      crashes += 1;
      if (Date.now() > deadline || crashes > 10)
        throw new Error(`still crashing after ${crashes} restarts`);
      running = await launch();
    }
    running.process.kill('SIGTERM');
    await running.exited;

    // Two crashes per level at most: one among its neighbours, one running alone.
    expect(crashes).toBeGreaterThanOrEqual(1);
    expect(crashes).toBeLessThanOrEqual(2 * 3);
    const { rows } = await db.query<{ event_id: string; n: string }>(
      `SELECT event_id, count(*) AS n FROM test_effects GROUP BY event_id`,
    );
    expect(rows.map((r) => r.event_id).sort()).toEqual(normal.map((e) => e.id).sort());
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    const [dead] = await fixture.probe.drain('inventory.order.placed.dlq');
    expect(dead?.properties.messageId).toBe(poison.id);
    expect(dead?.properties.headers).toMatchObject({
      'x-exception-type': 'handler-error',
      'x-retry-count': 2,
    });
    expect(String(dead?.properties.headers?.['x-exception-message'])).toContain('crash suspect');
  });

  it('stops gracefully on SIGTERM under load: completes its shutdown, loses nothing, applies nothing twice', async () => {
    // The backlog is in the queue before the consumer starts, and slow handlers (200 events
    // x 500 ms, 20 at a time: about 5 s of work) make sure the signal lands while most of it
    // is still waiting, however slowly a loaded machine publishes.
    const slow = { HANDLER_DELAY_MS: '500' };
    let running = await launch(); // migrates the database and declares the queue
    running.process.kill('SIGTERM');
    await running.exited;
    await db.query('TRUNCATE test_effects');
    const events = Array.from({ length: 200 }, () => orderPlaced());
    for (const event of events)
      await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    running = await launch(slow);
    await waitFor('some progress', async () => {
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM test_effects`);
      return Number(rows[0]!.n) >= 20;
    });
    running.process.kill('SIGTERM');
    await running.exited;
    // Nest re-raises the signal after closing; the report says the close completed.
    expect(running.output()).toContain('shutdown-complete');
    const { rows: partial } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM test_effects`,
    );
    expect(Number(partial[0]!.n)).toBeLessThan(events.length);
    running = await launch(slow);
    await waitFor(
      'every event',
      async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(DISTINCT event_id) AS n FROM test_effects`,
        );
        return Number(rows[0]!.n) === events.length;
      },
      { timeoutMs: 60_000 },
    );
    running.process.kill('SIGTERM');
    await running.exited;
    // What the first process handled before stopping was acked: none of it came back.
    expect(running.output()).toContain('shutdown-complete duplicates=0');
    const { rows } = await db.query<{ n: string; d: string }>(
      `SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM test_effects`,
    );
    expect(rows[0]).toEqual({ n: String(events.length), d: String(events.length) });
  });
});
