/** Renders a delay as it appears in a wait queue's name: `1s`, `10s`, `5m`, `1500ms`. */
export function delayName(ms: number): string {
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
