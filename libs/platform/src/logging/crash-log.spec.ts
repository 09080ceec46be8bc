import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '..', '..', '..', '..');

/** Runs `body` in a fresh Node process with `reportCrashes` installed; returns how it ended. */
async function crashWith(body: string) {
  const script = `
    import { createLogger } from './libs/platform/src/logging/logger.ts';
    import { reportCrashes } from './libs/platform/src/logging/crash-log.ts';
    reportCrashes(createLogger('orders'), 'orders');
    ${body}
  `;
  try {
    await promisify(execFile)(join(root, 'node_modules', '.bin', 'tsx'), ['--eval', script], {
      cwd: root,
    });
    return { code: 0, lines: [] as Record<string, unknown>[] };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { code, lines };
  }
}

describe('reportCrashes', () => {
  it('logs an unhandled rejection as one fatal JSON line with the error, and exits 1', async () => {
    const { code, lines } = await crashWith(
      `Promise.reject(new Error('the relay lost its client'));`,
    );
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        service: 'orders',
        msg: 'orders crashed on an unhandled promise rejection; exiting',
        err: expect.objectContaining({ message: 'the relay lost its client' }),
      }),
    ]);
  }, 30_000);

  it('logs an uncaught exception the same way', async () => {
    const { code, lines } = await crashWith(
      `setTimeout(() => { throw new TypeError('cannot read x of undefined'); }, 1);`,
    );
    expect(code).toBe(1);
    expect(lines[0]).toMatchObject({
      level: 'fatal',
      err: expect.objectContaining({ message: 'cannot read x of undefined' }),
    });
  }, 30_000);
});
