import { describe, expect, it } from '@jest/globals';
import { IsolationLock } from './isolation-lock.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('IsolationLock', () => {
  it('runs shared work concurrently and exclusive work alone, writers first', async () => {
    const lock = new IsolationLock();
    const log: string[] = [];
    let releaseA!: () => void;
    const a = lock.shared(async () => {
      log.push('a:start');
      await new Promise<void>((resolve) => (releaseA = resolve));
      log.push('a:end');
    });
    const b = lock.shared(async () => {
      log.push('b');
    });
    await tick();
    const x = lock.exclusive(async () => {
      log.push('x');
    });
    const c = lock.shared(async () => {
      log.push('c');
    });
    await tick();
    expect(log).toEqual(['a:start', 'b']);
    releaseA();
    await Promise.all([a, b, x, c]);
    expect(log).toEqual(['a:start', 'b', 'a:end', 'x', 'c']);
  });
});
