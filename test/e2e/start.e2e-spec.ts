import { freePort, waitFor } from '@app/testing';
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { root } from '../support/build.js';
import { call, SERVICES, System } from './system.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Line {
  service?: string;
  pid?: number;
  msg?: string;
}

/** The JSON lines of each service, without the launcher's `[service]` prefix. */
const serviceLines = (logs: string[]): Line[] =>
  logs.flatMap((line) => {
    const json = /^\[\w+\]\s+(\{.*\})$/.exec(line)?.[1];
    if (!json) return [];
    try {
      return [JSON.parse(json) as Line];
    } catch {
      return [];
    }
  });

// `npm start` as a person or a supervisor runs it: the npm process is the one signalled.
// The old "npm run build && node scripts/start.mjs" put a shell between npm and the launcher
// that swallowed SIGTERM: npm and the shell went, the launcher and all four services stayed.
describe('npm start', () => {
  it('starts nothing when the broker does not answer, and says what to run', async () => {
    const port = await freePort();
    const run = spawnSync('npm', ['start', '--silent'], {
      cwd: root,
      env: { ...process.env, AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`[start] RabbitMQ 127.0.0.1:${port} does not answer`);
    expect(run.stderr).toContain('npm run services');
    expect(run.stdout).not.toContain('launcher pid');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'stops every service on %s to its pid, each saying it stopped',
    async (signal) => {
      const system = await System.start({}, { viaNpm: true });
      try {
        // Not rebuilt: the suite built dist already and nothing changed since.
        expect(system.logs).toContain(
          '[start] the build is up to date with the sources: not rebuilding',
        );
        // The gateway was told where the launcher put users (USERS_PORT, no USERS_URL).
        const email = `start-${randomUUID().slice(0, 8)}@example.com`;
        const registered = await call(system.url('orders', '/users'), {
          body: { email, name: 'Ada', password: 'correct horse battery' },
        });
        expect(registered.status).toBe(201);

        const launcher = Number(/^\[start\] launcher pid (\d+)/m.exec(system.logs.join('\n'))?.[1]);
        const pids = new Map<string, number>();
        for (const line of serviceLines(system.logs))
          if (line.service && line.pid) pids.set(line.service, line.pid);
        expect([...pids.keys()].sort()).toEqual([...SERVICES].sort());

        process.kill(system.pid, signal);
        await system.exited();
        await waitFor('the launcher and every service to be gone', () =>
          [launcher, ...pids.values()].every((pid) => !alive(pid)),
        );
        // The launcher stops its services with SIGTERM, whichever signal it had.
        const lines = serviceLines(system.logs);
        for (const service of SERVICES) {
          const said = lines.filter((line) => line.service === service).map((line) => line.msg);
          const stopping = said.findIndex((msg) => msg?.startsWith(`${service} stopping (`));
          const stopped = said.findIndex((msg) => msg?.startsWith(`${service} stopped`));
          expect([service, stopping >= 0, stopped > stopping]).toEqual([service, true, true]);
        }
        // What each drained: the consumers and relays of all four.
        for (const service of SERVICES)
          expect([
            service,
            lines.some((l) => l.service === service && /^Messaging stopped: /.test(l.msg ?? '')),
          ]).toEqual([service, true]);
      } finally {
        await system.stop();
      }
    },
  );
});
