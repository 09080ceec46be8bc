/** A counting semaphore: `acquire` resolves when one of `permits` is free. */
export class Semaphore {
  private readonly waiting: { grant(): void; cancelled: boolean }[] = [];

  constructor(private permits: number) {}

  /** Permits free now. */
  get available(): number {
    return this.permits;
  }

  /**
   * Takes a permit, waiting for one if needed. With `deadline` (ms since the epoch), resolves
   * false when none came in time (and then holds none); otherwise true.
   */
  async acquire(deadline?: number): Promise<boolean> {
    if (this.permits > 0) {
      this.permits -= 1;
      return true;
    }
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter = {
        cancelled: false,
        grant: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiting.push(waiter);
      if (deadline !== undefined) {
        timer = setTimeout(
          () => {
            waiter.cancelled = true;
            resolve(false);
          },
          Math.max(0, deadline - Date.now()),
        );
      }
    });
  }

  /** Gives a permit back: to the longest waiter still waiting, else to the pool. */
  release(): void {
    for (let next = this.waiting.shift(); next; next = this.waiting.shift()) {
      if (next.cancelled) continue;
      next.grant();
      return;
    }
    this.permits += 1;
  }
}
