/**
 * A write-preferring readers/writer lock over the consumer: ordinary deliveries share it, a
 * redelivered one takes it alone, so a crash during its run can be blamed on it.
 */
export class IsolationLock {
  private readers = 0;
  private writer = false;
  private readonly waitingWriters: (() => void)[] = [];
  private waitingReaders: (() => void)[] = [];

  /** Runs `work` beside other shared work, after any waiting exclusive work. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    if (this.writer || this.waitingWriters.length) {
      await new Promise<void>((resolve) => this.waitingReaders.push(resolve));
    } else {
      this.readers += 1;
    }
    try {
      return await work();
    } finally {
      this.readers -= 1;
      this.next();
    }
  }

  /** Runs `work` with nothing else running. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    if (this.writer || this.readers > 0) {
      await new Promise<void>((resolve) => this.waitingWriters.push(resolve));
    } else {
      this.writer = true;
    }
    try {
      return await work();
    } finally {
      this.writer = false;
      this.next();
    }
  }

  private next(): void {
    if (this.writer || this.readers > 0) return;
    const writer = this.waitingWriters.shift();
    if (writer) {
      this.writer = true;
      writer();
      return;
    }
    const readers = this.waitingReaders;
    this.waitingReaders = [];
    this.readers += readers.length;
    for (const reader of readers) reader();
  }
}
