// npm run bench: every part in turn, each on a fresh vhost and database of the local broker and
// PostgreSQL, then the chart. Each part prints its table, writes bench/results/<part>.json and
// its section of docs/benchmarks.md. BENCH_PARTS=transport,outbox,e2e,messaging,memory picks parts.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeChart } from './chart.js';
import { root } from './lib/report.js';

const PARTS = ['transport', 'outbox', 'e2e', 'messaging', 'memory'];
const chosen = (process.env.BENCH_PARTS ?? PARTS.join(',')).split(',');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
for (const part of PARTS.filter((p) => chosen.includes(p))) {
  console.log(`\n=== bench: ${part} ===`);
  execFileSync(tsx, [join(root, 'bench', `${part}.bench.ts`)], { cwd: root, stdio: 'inherit' });
}
console.log(`[bench] chart: ${writeChart()}`);
