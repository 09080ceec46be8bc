// npm run test:faults [-- --short] [-- --seed=N] [-- --record]: the fault-injection suite
// against the four services as processes. Prints a table per fault and, last, `lost=0
// duplicated=0 orders=N faults=K dead-lettered=M`; exits 1 when anything was lost, duplicated
// or violated. --record writes the run to docs/faults.md.
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { root } from '../support/build.js';
import { FULL, runFaultSuite, SHORT } from './suite.js';

const base = process.argv.includes('--short') ? SHORT : FULL;
const seed = process.argv.find((arg) => arg.startsWith('--seed='));
const options = seed ? { ...base, seed: Number(seed.slice('--seed='.length)) } : base;
const result = await runFaultSuite(options);
console.log(`\n${result.table}\n`);
console.log(`report and per-process logs: ${result.logDir}`);
console.log(result.summary);
const failed = result.lost || result.duplicated || result.violations;
if (process.argv.includes('--record')) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  writeFileSync(
    join(root, 'docs', 'faults.md'),
    [
      '# A recorded run of the fault suite',
      '',
      `\`npm run test:faults -- --record\` on ${new Date().toISOString().slice(0, 10)}: ${machine}; RabbitMQ and PostgreSQL local.`,
      `${options.ordersPerSecond} orders/s from ${options.customers} customers, seed ${options.seed}, ${options.gapMs / 1000} s of load between faults.`,
      'What each column means is in the README ("Faults: what is tested, what is guaranteed").',
      '',
      '```',
      result.table,
      '',
      result.summary,
      '```',
      '',
    ].join('\n'),
  );
}
process.exit(failed ? 1 : 0);
