/**
 * TypeORM errors raised when the connection under a query runner is gone. TypeORM releases
 * a query runner whose connection fails (a `pg_terminate_backend`, say), so the next
 * statement of its transaction, often the COMMIT, finds it released: nothing was committed.
 */
const LOST_CONNECTION_ERRORS = new Set([
  'QueryRunnerAlreadyReleasedError',
  'QueryRunnerProviderAlreadyReleasedError',
  'ConnectionIsNotSetError',
]);

/**
 * PostgreSQL SQLSTATEs of a connection that failed or a server that is going away or full,
 * the socket errors of a connection that broke (a terminated backend resets the connection
 * under the statements pipelined behind the one that got its error), and a host name that
 * does not resolve yet (a database container still starting).
 */
const UNAVAILABLE_CODES =
  /^(08...|57P01|57P02|57P03|53300|ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/;

/** pg and pg-pool messages of a connection that broke or could not be made. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connect ECONNREFUSED|read ECONNRESET|write EPIPE|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable/i;

/**
 * True when `error` says the database could not be reached or dropped the connection (for
 * instance `pg_terminate_backend`, a restart or failover), not that the statement was wrong:
 * the request may succeed if repeated, so it answers 503, not 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 4; depth++) {
    const candidate = current as { name?: unknown; code?: unknown; message?: unknown };
    if (typeof candidate.name === 'string' && LOST_CONNECTION_ERRORS.has(candidate.name))
      return true;
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.test(candidate.code)) return true;
    if (typeof candidate.message === 'string' && UNAVAILABLE_MESSAGES.test(candidate.message))
      return true;
    current =
      (current as { driverError?: unknown; cause?: unknown }).driverError ??
      (current as { cause?: unknown }).cause;
  }
  return false;
}

/** True when `error` is PostgreSQL's unique violation (23505), raw or wrapped by TypeORM. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } } | undefined;
  return (e?.code ?? e?.driverError?.code) === '23505';
}
