// npm run test:faults [-- --short] [-- --cluster] [-- --seed=N] [-- --record]: the
// fault-injection suite against the four services as processes, on a RabbitMQ node of its own
// or (--cluster) a three-node cluster with the cluster's faults. Prints a table per fault and,
// last, `lost=0 duplicated=0 orders=N faults=K dead-lettered=M`; exits 1 when anything was
// lost, duplicated or violated. --record writes the run to its section of docs/faults.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { root } from '../support/build.js';
import { FULL, runFaultSuite, SHORT } from './suite.js';

const base = process.argv.includes('--short') ? SHORT : FULL;
const seed = process.argv.find((arg) => arg.startsWith('--seed='));
const cluster = process.argv.includes('--cluster');
const options = {
  ...base,
  cluster,
  ...(seed ? { seed: Number(seed.slice('--seed='.length)) } : {}),
};
const result = await runFaultSuite(options);
console.log(`\n${result.table}\n`);
console.log(`report and per-process logs: ${result.logDir}`);
console.log(result.summary);
const failed = result.lost || result.duplicated || result.violations;
if (process.argv.includes('--record')) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const mode = cluster ? 'cluster' : 'single';
  const section = [
    `<!-- faults:${mode}:start -->`,
    '',
    `## ${cluster ? 'A three-node RabbitMQ cluster' : 'One RabbitMQ node'}`,
    '',
    `\`npm run test:faults -- ${cluster ? '--cluster ' : ''}--record\` on ${new Date().toISOString().slice(0, 10)}: ${machine}; ${result.broker}, PostgreSQL local.`,
    `${options.ordersPerSecond} orders/s from ${options.customers} customers, seed ${options.seed}, ${options.gapMs / 1000} s of load between faults.`,
    '',
    '```',
    result.table,
    '',
    result.summary,
    '```',
    '',
    `<!-- faults:${mode}:end -->`,
  ].join('\n');
  const path = join(root, 'docs', 'faults.md');
  const header = [
    '# Recorded runs of the fault suite',
    '',
    'What each column means is in the README ("Faults: what is tested, what is guaranteed").',
    '',
  ].join('\n');
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (!text.startsWith('# Recorded runs'))
    text = `${header}\n<!-- faults:single:start -->\n<!-- faults:single:end -->\n\n<!-- faults:cluster:start -->\n<!-- faults:cluster:end -->\n`;
  const pattern = new RegExp(`<!-- faults:${mode}:start -->[\\s\\S]*<!-- faults:${mode}:end -->`);
  writeFileSync(path, text.replace(pattern, section));
}
process.exit(failed ? 1 : 0);
