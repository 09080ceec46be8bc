import { management } from '@app/testing';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const root = join(import.meta.dirname, '..', '..');

/** Version of an installed package (of the project, or of `bench/peers` with `peers`). */
export function versionOf(name: string, peers = false): string {
  const base = peers ? join(root, 'bench', 'peers') : root;
  try {
    return (
      JSON.parse(readFileSync(join(base, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return '?';
  }
}

export interface Machine {
  date: string;
  machine: string;
  node: string;
  rabbitmq: string;
  postgresql: string;
}

/** Where and with what a benchmark ran. */
export async function machine(): Promise<Machine> {
  const rabbit = await management<{ rabbitmq_version: string }>('GET', '/overview');
  const client = new pg.Client({
    connectionString:
      process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    node: process.version,
    rabbitmq: rabbit.rabbitmq_version,
    postgresql: rows[0]?.server_version ?? '?',
  };
}

/** Writes the raw results of one part to `bench/results/<name>.json`. */
export function writeResults(name: string, data: unknown): void {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(root, 'bench', 'results', `${name}.json`),
    `${JSON.stringify(data, null, 2)}\n`,
  );
}

/** Reads what `writeResults` wrote, if anything. */
export function readResults<T>(name: string): T | undefined {
  try {
    return JSON.parse(readFileSync(join(root, 'bench', 'results', `${name}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A markdown table. */
export function markdownTable(
  header: string[],
  rows: (string | number)[][],
  align?: ('l' | 'r')[],
): string {
  const rule = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows.map((row) => row.map(String))]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n');
}

/** Replaces (or appends) the section between `<!-- name:start -->` and `<!-- name:end -->`. */
export function updateDocSection(name: string, body: string): void {
  const path = join(root, 'docs', 'benchmarks.md');
  let doc: string;
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc =
      '# Benchmarks\n\nFigures from this machine, written by the benchmark scripts. Compare only within one run.\n\n';
  }
  const section = `<!-- ${name}:start -->\n${body.trim()}\n<!-- ${name}:end -->`;
  const pattern = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  doc = pattern.test(doc) ? doc.replace(pattern, section) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, doc);
}
