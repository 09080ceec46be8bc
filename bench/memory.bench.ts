// npm run bench (part 4): where a service's memory goes. Each row is a fresh Node process that
// loads one more group of what the services load (cumulative, in the order a service boots),
// then collects garbage twice and reports its heap and RSS: the difference to the row above is
// what that group costs once loaded. The last rows boot each built service's module graph
// without starting it (no connections), so that the whole can be compared with its parts.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { entryOf } from '../test/support/build.js';
import { machine, markdownTable, root, updateDocSection, writeResults } from './lib/report.js';

/** The built event contracts (libs/events), as the services load them. */
const EVENTS = pathToFileURL(
  join(root, 'dist', 'apps', 'users', 'libs', 'events', 'src', 'index.js'),
).href;

/**
 * Cumulative groups: a label, the module specifiers it adds, and statements it runs after the
 * imports (their result kept alive on `globalThis`).
 */
const GROUPS: [label: string, imports: string[], statements?: string][] = [
  ['Node alone', []],
  [
    'Nest core (reflect-metadata, @nestjs/common, @nestjs/core, rxjs)',
    ['reflect-metadata', '@nestjs/common', '@nestjs/core', 'rxjs'],
  ],
  [
    'HTTP (@nestjs/platform-express, express, helmet)',
    ['@nestjs/platform-express', 'express', 'helmet'],
  ],
  ['database (typeorm, @nestjs/typeorm, pg)', ['typeorm', '@nestjs/typeorm', 'pg']],
  ['broker (amqplib, amqp-connection-manager)', ['amqplib', 'amqp-connection-manager']],
  ['logging and metrics (pino, prom-client)', ['pino', 'prom-client']],
  [
    'validation (class-validator, class-transformer, ajv, ajv-formats)',
    ['class-validator', 'class-transformer', 'ajv', 'ajv-formats'],
  ],
  [
    "the event contracts, every schema compiled by Ajv (libs/events' EventRegistry)",
    [EVENTS],
    `globalThis.kept = new (await import('${EVENTS}')).EventRegistry({ defaultCurrency: 'EUR' });`,
  ],
  ['@nestjs/swagger (decorators and module)', ['@nestjs/swagger']],
  ['@nestjs/terminus', ['@nestjs/terminus']],
  [
    'OpenTelemetry API and context',
    ['@opentelemetry/api', '@opentelemetry/context-async-hooks', '@opentelemetry/core'],
  ],
  [
    'OpenTelemetry SDK and OTLP exporter (only with an exporter)',
    [
      '@opentelemetry/sdk-trace',
      '@opentelemetry/exporter-trace-otlp-http',
      '@opentelemetry/resources',
    ],
  ],
];

interface Reading {
  heapMb: number;
  rssMb: number;
}

/**
 * A fresh process that imports `specifiers`, runs `statements`, collects garbage, and reads
 * its memory.
 */
function measure(specifiers: string[], statements: string[] = []): Reading {
  const script = `
    for (const s of ${JSON.stringify(specifiers)}) await import(s);
    ${statements.join('\n')}
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
    const m = process.memoryUsage();
    console.log(JSON.stringify({ heapMb: m.heapUsed / 2 ** 20, rssMb: m.rss / 2 ** 20 }));
    process.exit(0);`;
  const readings: Reading[] = [];
  // Three processes each; the median of each figure (RSS moves with what the allocator keeps).
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      { cwd: root, env: { ...process.env, NODE_ENV: 'production' } },
    ).toString();
    readings.push(JSON.parse(out.trim().split('\n').at(-1)!) as Reading);
  }
  const mid = (values: number[]) => values.sort((a, b) => a - b)[1]!;
  return {
    heapMb: Math.round(mid(readings.map((r) => r.heapMb)) * 10) / 10,
    rssMb: Math.round(mid(readings.map((r) => r.rssMb)) * 10) / 10,
  };
}

/**
 * A service's whole module graph: its built module file imported (no bootstrap: the entry
 * would connect), which loads every package, contract and compiled schema it uses.
 */
function serviceModuleOf(service: string): string {
  const entry = entryOf(service as Parameters<typeof entryOf>[0]);
  return pathToFileURL(join(entry, '..', `${service}.module.js`)).href;
}

export function runMemoryBench() {
  const rows: {
    group: string;
    heapMb: number;
    rssMb: number;
    heapDelta: number;
    rssDelta: number;
  }[] = [];
  const loaded: string[] = [];
  const ran: string[] = [];
  let previous: Reading | undefined;
  for (const [group, specifiers, statements] of GROUPS) {
    loaded.push(...specifiers);
    if (statements) ran.push(statements);
    const reading = measure(loaded, ran);
    rows.push({
      group,
      ...reading,
      heapDelta: previous ? Math.round((reading.heapMb - previous.heapMb) * 10) / 10 : 0,
      rssDelta: previous ? Math.round((reading.rssMb - previous.rssMb) * 10) / 10 : 0,
    });
    console.log(`[memory] ${group}: heap ${reading.heapMb} MB, RSS ${reading.rssMb} MB`);
    previous = reading;
  }
  const services = ['orders', 'users', 'inventory', 'email'].map((service) => {
    const reading = measure([serviceModuleOf(service)]);
    console.log(
      `[memory] ${service} module graph: heap ${reading.heapMb} MB, RSS ${reading.rssMb} MB`,
    );
    return { service, ...reading };
  });
  return { rows, services };
}

function report(
  host: Awaited<ReturnType<typeof machine>>,
  result: ReturnType<typeof runMemoryBench>,
): string {
  return [
    '## 4. Memory: what loading each part costs (`npm run bench`)',
    '',
    `${host.date.slice(0, 10)} on ${host.machine}; Node ${host.node}. Each row is a fresh Node process (NODE_ENV=production) that imports one more group of what the services load, cumulatively, then collects garbage: the heap and RSS it holds, and what the group added (median of three processes). RSS moves by several MB from one process to the next (what the allocator keeps, where the code lands), so a small or negative RSS difference is noise; the heap column is the steady one. The last table imports each service's built Nest module, that is its whole module graph with its contracts and schemas, without booting it. A booted service adds what it allocates at run time (Nest's container, TypeORM's metadata, Ajv's compiled validators, pools, buffers): the end-to-end section gives RSS at idle and under load.`,
    '',
    markdownTable(
      ['loaded (cumulative)', 'heap MB', 'RSS MB', 'heap added', 'RSS added'],
      result.rows.map((r) => [r.group, r.heapMb, r.rssMb, r.heapDelta, r.rssDelta]),
      ['l', 'r', 'r', 'r', 'r'],
    ),
    '',
    markdownTable(
      ['service module graph', 'heap MB', 'RSS MB'],
      result.services.map((s) => [s.service, s.heapMb, s.rssMb]),
      ['l', 'r', 'r'],
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = runMemoryBench();
  const host = await machine();
  writeResults('memory', { ...host, ...result });
  const section = report(host, result);
  console.log(section);
  updateDocSection('memory', section);
}
