const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses `500ms`, `1s`, `5m`, `1h` into milliseconds; throws a message naming the accepted forms. */
export function parseDuration(value: string, name = 'duration'): number {
  const match = DURATION.exec(value.trim());
  if (!match) {
    throw new Error(
      `${name}="${value}" is not a duration: use a number followed by ms, s, m or h (for example 1s, 10s, 5m).`,
    );
  }
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Math.round(Number(amount) * UNIT_MS[unit]);
}

/** Renders milliseconds in the shortest exact unit, as used in queue names (`1s`, `5m`, `1500ms`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
