import { type DecodedEvent } from '@app/events';
import { SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  effects,
  orderPlaced,
  publishRaw,
  startService,
  type TestService,
} from '../../test/harness.js';
import { type EventContext } from '../consumer/event-context.js';
import { EventHandler } from '../consumer/event-handler.decorator.js';
import { DeadLetterTool, DeadLetterToolError } from './dead-letter-tool.js';

let failing = true;

@Injectable()
class FlakyInventory {
  @EventHandler('order.placed', { id: 'reserve' })
  async reserve(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    if (failing) throw new Error('warehouse offline');
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, data) VALUES ('inventory', $1, '{}')`,
      [event.envelope.id],
    );
  }
}

@Injectable()
class EmailOnOrders {
  @EventHandler('order.placed', { id: 'note' })
  async note(event: DecodedEvent<'order.placed'>, context: EventContext): Promise<void> {
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, data) VALUES ('email', $1, '{}')`,
      [event.envelope.id],
    );
  }
}

const root = join(import.meta.dirname, '..', '..', '..', '..');
const run = promisify(execFile);
const cli = (args: string[], env: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', join(root, 'tools', 'dlq.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  }).then(
    (result) => ({ code: 0, ...result }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

describe('the dead-letter tool', () => {
  let fixture: SuiteFixture;
  let inventory: TestService;
  let email: TestService;
  const queue = 'inventory.order.placed';

  beforeAll(async () => {
    fixture = await SuiteFixture.create('dlq');
    inventory = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [FlakyInventory],
      messaging: { retryDelaysMs: [50] },
    });
    email = await startService({
      service: 'email',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [EmailOnOrders],
    });
  });

  afterAll(async () => {
    await inventory?.close();
    await email?.close();
    await fixture?.dispose();
  });

  it('lists, replays one by id to the origin queue only, replays the rest, and purges', async () => {
    const events = [orderPlaced(), orderPlaced(), orderPlaced()];
    for (const event of events)
      await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', 'garbage');
    await waitFor(
      'four dead letters',
      async () => (await fixture.probe.depth(`${queue}.dlq`)) === 4,
    );
    await waitFor(
      'email handled the three events',
      async () => (await effects(email.dataSource, 'email')).length === 3,
    );

    const tool = await DeadLetterTool.connect(fixture.vhost.url);
    try {
      const summary = await tool.list(`${queue}.dlq`);
      expect(summary.total).toBe(4);
      expect(summary.groups.map((g) => [g.exceptionType, g.count])).toEqual(
        expect.arrayContaining([
          ['handler-error', 3],
          ['malformed-message', 1],
        ]),
      );
      expect(summary.groups.find((g) => g.exceptionType === 'handler-error')?.message).toContain(
        'warehouse offline',
      );
      expect(await fixture.probe.depth(`${queue}.dlq`)).toBe(4); // listing takes nothing away

      failing = false;
      expect(await tool.replay(queue, { id: events[0]!.id })).toBe(1);
      await waitFor(
        'the replayed event',
        async () => (await effects(inventory.dataSource, 'inventory')).length === 1,
      );
      expect((await effects(inventory.dataSource, 'inventory'))[0]?.event_id).toBe(events[0]!.id);
      await waitFor(
        'the dead letters to settle',
        async () => (await fixture.probe.depth(`${queue}.dlq`)) === 3,
      );

      expect(await tool.replay(queue, { limit: 10 })).toBe(3);
      await waitFor(
        'the rest',
        async () => (await effects(inventory.dataSource, 'inventory')).length === 3,
      );
      // The malformed message fails again and is dead-lettered again, not dropped.
      await waitFor(
        'the malformed one back in the DLQ',
        async () => (await fixture.probe.depth(`${queue}.dlq`)) === 1,
      );
      // Replays reached the origin queue only: email handled each event once.
      expect(await effects(email.dataSource, 'email')).toHaveLength(3);

      expect(await tool.purge(queue)).toBe(1);
      expect(await fixture.probe.depth(`${queue}.dlq`)).toBe(0);
      await expect(tool.list('inventory.no.such.queue')).rejects.toThrow(DeadLetterToolError);
    } finally {
      await tool.close();
    }
  });

  it('answers through the CLI with clear errors and exit codes', async () => {
    const listed = await cli(['list', queue], { AMQP_URL: fixture.vhost.url });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${queue}.dlq: 0 dead letter(s)`);
    const unknown = await cli(['list', 'inventory.nothing.here'], { AMQP_URL: fixture.vhost.url });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No dead-letter queue "inventory.nothing.here.dlq"');
    const unreachable = await cli(['list', queue], { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      'Cannot connect to RabbitMQ at amqp://guest:***@127.0.0.1:1',
    );
    const unconfirmed = await cli(['purge', queue], { AMQP_URL: fixture.vhost.url });
    expect(unconfirmed.code).toBe(64);
    expect(unconfirmed.stderr).toContain('add --yes');
  });
});
