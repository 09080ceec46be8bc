import { setTimeout } from 'node:timers/promises';

/** Resolves after `ms` (at once for 0 or less) without keeping the process alive meanwhile. */
export function pause(ms: number): Promise<void> {
  return setTimeout(Math.max(0, ms), undefined, { ref: false });
}
