import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The shared store of rate-limit windows: one row per key, in the service's database. */
export class RateLimits1764500000000 implements MigrationInterface {
  name = 'RateLimits1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE rate_limits (
        key           text PRIMARY KEY,
        window_start  timestamptz NOT NULL,
        hits          integer NOT NULL
      )`);
    await runner.query(`CREATE INDEX rate_limits_window ON rate_limits (window_start)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE rate_limits`);
  }
}

/** A limit: at most `limit` hits per `windowMs`, under a name clients see in `RateLimit-Policy`. */
export interface RateLimit {
  name: string;
  limit: number;
  windowMs: number;
}

/** The window of every limit: one minute. */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * Password checks per account and client address a minute: half of `RATE_LIMIT_PER_MINUTE`.
 * The gateway and users apply the same limit, under the key `accountKey` gives.
 */
export function accountLimit(name: string, rateLimitPerMinute: number): RateLimit {
  return {
    name,
    limit: Math.max(1, Math.floor(rateLimitPerMinute / 2)),
    windowMs: RATE_LIMIT_WINDOW_MS,
  };
}

/** The key of an account and a client: never the account alone, so none can lock it out. */
export function accountKey(email: unknown, client: string): string {
  const account = typeof email === 'string' ? email.trim().toLowerCase().slice(0, 320) : '';
  return `${account}|${client}`;
}

/** The state of one key's window after a hit. */
export interface RateLimitState {
  limit: RateLimit;
  hits: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
  exceeded: boolean;
}

/** Hits between two sweeps of expired windows (per replica). */
const SWEEP_EVERY = 1_000;

/**
 * Fixed-window counters in PostgreSQL, so every replica of a service counts the same hits (an
 * in-memory limit multiplies by the replica count). One upsert per hit: the row is reset when
 * its window has passed, else incremented, atomically under the row lock.
 */
@Injectable()
export class RateLimiter {
  private sinceSweep = 0;

  constructor(private readonly dataSource: DataSource) {}

  /** Counts a hit on `key` under `limit` and returns the window's state. */
  async hit(key: string, limit: RateLimit): Promise<RateLimitState> {
    return this.record(key, limit, 1);
  }

  /** The window's state without counting a hit. */
  async peek(key: string, limit: RateLimit): Promise<RateLimitState> {
    return this.record(key, limit, 0);
  }

  /** Forgets `key` (after a successful sign-in, its failures no longer count). */
  async reset(key: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM rate_limits WHERE key = $1`, [key]);
  }

  private async record(key: string, limit: RateLimit, hits: number): Promise<RateLimitState> {
    const storedKey = `${limit.name}:${key}`;
    const [row] = await this.dataSource.query<{ hits: number; reset_ms: string }[]>(
      `INSERT INTO rate_limits AS r (key, window_start, hits) VALUES ($1, now(), $2)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN r.window_start + $3 * interval '1 millisecond' <= now()
                     THEN $2 ELSE r.hits + $2 END,
         window_start = CASE WHEN r.window_start + $3 * interval '1 millisecond' <= now()
                             THEN now() ELSE r.window_start END
       RETURNING hits,
         extract(epoch FROM (window_start + $3 * interval '1 millisecond' - now())) * 1000
           AS reset_ms`,
      [storedKey, hits, limit.windowMs],
    );
    if (++this.sinceSweep >= SWEEP_EVERY) {
      this.sinceSweep = 0;
      await this.dataSource.query(
        `DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'`,
      );
    }
    const count = row!.hits;
    return {
      limit,
      hits: count,
      remaining: Math.max(0, limit.limit - count),
      resetSeconds: Math.max(1, Math.ceil(Number(row!.reset_ms) / 1000)),
      exceeded: count > limit.limit,
    };
  }
}

/** Sets a response header (the subset of Express' response the limits need). */
export interface HeaderSink {
  setHeader(name: string, value: string): void;
}

/**
 * Answers for the tightest of `states`: `RateLimit-Limit`, `RateLimit-Remaining`,
 * `RateLimit-Reset` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers), and over
 * a limit a 429 with `Retry-After` that names the limit.
 */
export function enforceLimits(response: HeaderSink, states: RateLimitState[]): void {
  if (!states.length) return;
  const tightest = states.reduce((a, b) =>
    b.exceeded && !a.exceeded
      ? b
      : a.exceeded && !b.exceeded
        ? a
        : b.remaining < a.remaining
          ? b
          : a,
  );
  response.setHeader('RateLimit-Limit', String(tightest.limit.limit));
  response.setHeader('RateLimit-Remaining', String(tightest.remaining));
  response.setHeader('RateLimit-Reset', String(tightest.resetSeconds));
  response.setHeader(
    'RateLimit-Policy',
    states
      .map(
        (s) => `${s.limit.limit};w=${Math.round(s.limit.windowMs / 1000)};name="${s.limit.name}"`,
      )
      .join(', '),
  );
  if (tightest.exceeded) {
    response.setHeader('Retry-After', String(tightest.resetSeconds));
    throw new HttpException(
      `Too many requests (${tightest.limit.name}: ${tightest.limit.limit} per ${Math.round(tightest.limit.windowMs / 1000)} s); retry in ${tightest.resetSeconds} s.`,
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
