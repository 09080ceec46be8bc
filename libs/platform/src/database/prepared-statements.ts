import { createHash } from 'node:crypto';
import pg from 'pg';

/** Statements one connection prepares at most; beyond them, statements run unnamed. */
export const MAX_PREPARED_STATEMENTS = 500;

type Query = (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;
const query = pg.Client.prototype.query as unknown as Query;

/** `s_` and a hash of the text: the same name for the same text on every connection. */
const names = new Map<string, string>();
function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    if (names.size < 10_000) names.set(text, name);
  }
  return name;
}

/**
 * A pg client that prepares each parameterized statement once per connection and then runs
 * it by name: PostgreSQL parses and plans it once instead of at every execution (measured
 * in docs/benchmarks.md). Statements without parameters (BEGIN, COMMIT, DDL) run as they
 * are, and so does every statement past `MAX_PREPARED_STATEMENTS` distinct texts.
 *
 * It also outlives late connection errors (see the constructor).
 *
 * A prepared statement keeps its result's row type: a running service must not change the
 * schema under its own statements (migrations run before a service serves, so they do not).
 */
export class PreparingClient extends pg.Client {
  private readonly prepared = new Set<string>();

  constructor(config?: string | pg.ClientConfig) {
    super(config);
    // Whoever holds the connection (pg-pool when idle, a TypeORM query runner when checked
    // out) listens for its errors. A terminated backend can raise two (its FATAL message and
    // the reset socket, more likely with pipelined statements in flight), and the second may
    // come after the holder let go: with no listener left, it would crash the process.
    this.on('error', () => undefined);
  }

  static {
    (PreparingClient.prototype as unknown as { query: Query }).query = function (
      this: pg.Client,
      config: unknown,
      values?: unknown,
      callback?: unknown,
    ): unknown {
      if (typeof config === 'string' && Array.isArray(values) && values.length > 0) {
        const name = nameOf(config);
        const prepared = (this as PreparingClient).prepared;
        if (prepared.has(name) || prepared.size < MAX_PREPARED_STATEMENTS) {
          prepared.add(name);
          return query.call(this, { name, text: config, values }, callback);
        }
      }
      return query.call(this, config, values, callback);
    };
  }
}
