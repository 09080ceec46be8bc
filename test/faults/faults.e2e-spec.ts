import { describe, expect, it } from '@jest/globals';
import { runFaultSuite, SHORT } from './suite.js';

// The short variant of `npm run test:faults`: every fault, injected in turn under load into the
// four services as processes (two replicas of inventory and email). The full run is the script.
describe('fault injection (short variant of npm run test:faults)', () => {
  it('loses nothing and applies nothing twice through every fault', async () => {
    const lines: string[] = [];
    const result = await runFaultSuite({ ...SHORT, log: (line) => lines.push(line) });
    const report = `${lines.join('\n')}\n\n${result.table}\n${result.summary}`;
    console.log(report);
    expect(result.phases.map((phase) => phase.name)).toEqual([
      'baseline',
      'rabbitmq restart',
      'kill -9 inventory',
      'kill -9 orders',
      'kill -9 email',
      'pg_terminate_backend',
      'duplicated deliveries',
      'reordered deliveries',
      'poison messages',
      'slow database (inventory)',
      'inventory down past the deadline',
      'hanging SMTP server',
      'relay leader cut off',
      'broker disk alarm',
      'missing permission (email)',
    ]);
    expect(result.verdict.findings).toEqual([]);
    expect(result.summary.split('\n').at(-1)).toMatch(
      /^lost=0 duplicated=0 orders=\d+ faults=14 dead-lettered=\d+$/,
    );
    expect(result.verdict.accepted).toBeGreaterThanOrEqual(SHORT.minOrders);
    expect(result.verdict.deadLettered).toBeGreaterThan(0);
  }, 600_000);
});
