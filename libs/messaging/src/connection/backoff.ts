/**
 * Exponential back-off with jitter: `initialMs`, then doubling up to `maxMs`, each delay spread
 * by up to ±`jitter` of itself so that replicas that failed together do not retry in step.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly jitter = 0.2,
  ) {}

  /** Failures since the last `reset`. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt, counting one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.failures);
    this.failures += 1;
    const spread = base * this.jitter * (Math.random() * 2 - 1);
    return Math.max(0, Math.round(Math.min(this.maxMs, base + spread)));
  }

  /** After a success: the next failure waits `initialMs` again. */
  reset(): void {
    this.failures = 0;
  }
}
