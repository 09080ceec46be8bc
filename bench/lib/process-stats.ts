import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(
  (() => {
    try {
      return execFileSync('getconf', ['CLK_TCK']).toString().trim();
    } catch {
      return '100';
    }
  })(),
);

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size in MB, from /proc. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** Pids of processes whose command name is `name` (for example `postgres` or `beam.smp`). */
export function pidsNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name]).toString().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Samples CPU and peak RSS of named groups of processes between `start()` and `stop()`.
 * Group pids are re-read at every sample (PostgreSQL forks a backend per connection).
 */
export class ProcessSampler {
  private readonly cpuAtStart = new Map<string, number>();
  private readonly peakRss = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private startedAt = 0;

  constructor(private readonly groups: Record<string, () => number[]>) {}

  private cpuOf(group: string): number {
    return this.groups[group]!().reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  private sample(): void {
    for (const [group, pids] of Object.entries(this.groups)) {
      const rss = pids().reduce((sum, pid) => sum + rssMb(pid), 0);
      this.peakRss.set(group, Math.max(this.peakRss.get(group) ?? 0, rss));
    }
  }

  start(): void {
    this.startedAt = performance.now();
    for (const group of Object.keys(this.groups)) this.cpuAtStart.set(group, this.cpuOf(group));
    this.peakRss.clear();
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
  }

  /** CPU use in % of one core, and peak RSS in MB, per group. */
  stop(): Record<string, { cpuPercent: number; rssMb: number }> {
    clearInterval(this.timer);
    this.sample();
    const seconds = (performance.now() - this.startedAt) / 1000;
    const result: Record<string, { cpuPercent: number; rssMb: number }> = {};
    for (const group of Object.keys(this.groups)) {
      const used = this.cpuOf(group) - (this.cpuAtStart.get(group) ?? 0);
      result[group] = {
        cpuPercent: Math.round((used / seconds) * 100),
        rssMb: Math.round(this.peakRss.get(group) ?? 0),
      };
    }
    return result;
  }
}

/** The p-th percentile (0..100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** The median of `values`. */
export const median = (values: number[]) => percentile(values, 50);
