import { freePort, waitFor } from '@app/testing';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, entryOf, root } from '../support/build.js';

interface LogLine {
  level: string;
  service?: string;
  msg?: string;
  [field: string]: unknown;
}

/** Starts a built service with `env`; collects its output lines, each parsed as JSON. */
async function boot(env: Record<string, string>) {
  const port = String(await freePort());
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [entryOf('users')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: port, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop()!;
      lines.push(...parts.filter(Boolean));
    });
  }
  // 'close', not 'exit': the output is read to its end before the exit code is used.
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  const parsed = () =>
    lines.map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
  return { child, exited, lines, parsed };
}

// A service that cannot start says why in JSON log lines, and how long it keeps trying
// depends on whether trying again can help.
describe('a service that cannot start', () => {
  beforeAll(() => ensureBuilt());

  it('stops at once with exit 78 and one JSON line naming a bad variable', async () => {
    const users = await boot({ PREFETCH: 'lots' });
    expect(await users.exited).toBe(78);
    const [line, ...more] = users.parsed();
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'fatal', service: 'users' });
    expect(line!.msg).toContain('PREFETCH');
  });

  it('stops at once when the database refuses its role, naming DATABASE_URL, every line JSON', async () => {
    const users = await boot({ DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:5432/users' });
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      users.exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still running after 20 s'), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    users.child.kill('SIGKILL');
    expect(code).toBe(1);
    const lines = users.parsed();
    expect(lines.some((line) => /Retrying/.test(line.msg ?? ''))).toBe(false);
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      service: 'users',
      msg:
        'users failed to start: Cannot open the database postgres://nobody:***@127.0.0.1:5432/users: ' +
        'role "nobody" does not exist. Check the user, password and database name of DATABASE_URL ' +
        '(in production the database must exist).',
    });
    expect(users.lines.join('\n')).not.toContain('secret');
  });

  // With pino's default destination (writes in the thread pool, fatal flushed synchronously)
  // the line before the fatal one landed after it in about one run in ten.
  it('writes every line before it exits, the fatal one last', async () => {
    const logger = join(
      root,
      'dist',
      'apps',
      'users',
      'libs',
      'platform',
      'src',
      'logging',
      'logger.js',
    );
    const script =
      `const { createLogger } = await import(${JSON.stringify(pathToFileURL(logger).href)});` +
      `const logger = createLogger('users', 'info');` +
      `for (let i = 0; i < 3; i++) logger.error({ i }, 'before');` +
      `logger.fatal('users failed to start: the reason');` +
      `process.exit(1);`;
    const runs = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const lines: string[] = [];
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        child.stdout.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n')));
        const code = await new Promise((resolve) => child.once('close', resolve));
        return {
          code,
          messages: lines.filter(Boolean).map((line) => (JSON.parse(line) as LogLine).msg),
        };
      }),
    );
    for (const run of runs)
      expect(run).toEqual({
        code: 1,
        messages: ['before', 'before', 'before', 'users failed to start: the reason'],
      });
  });

  it('keeps trying while PostgreSQL is unreachable, saying what it tried', async () => {
    const port = await freePort();
    const users = await boot({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/users` });
    try {
      const retry = await waitFor('a retry line', () =>
        users.parsed().find((line) => /Retrying \(1\)/.test(line.msg ?? '')),
      );
      expect(retry).toMatchObject({ level: 'error', context: 'TypeOrmModule' });
      expect(retry.msg).toContain(
        `Cannot open the database postgres://postgres@127.0.0.1:${port}/users: connect ECONNREFUSED`,
      );
      expect(retry.msg).toContain('Check that PostgreSQL runs');
      expect(users.child.exitCode).toBeNull();
    } finally {
      users.child.kill('SIGKILL');
      await users.exited;
    }
  });
});
