/** The broker cannot be reached now: nothing was sent; the caller (the outbox relay) retries. */
export class BrokerUnavailableError extends Error {
  override readonly name = 'BrokerUnavailableError';
  readonly code = 'MESSAGING.BROKER_UNAVAILABLE';
}

/** The broker returned a `mandatory` publish: no queue is bound for that routing key. */
export class UnroutableMessageError extends Error {
  override readonly name = 'UnroutableMessageError';
  readonly code = 'MESSAGING.UNROUTABLE';
}

/** The broker did not confirm a publish in time, or refused it (nack). */
export class PublishNotConfirmedError extends Error {
  override readonly name = 'PublishNotConfirmedError';
  readonly code = 'MESSAGING.NOT_CONFIRMED';
}

/** A queue or exchange exists with other arguments than this service declares; boot stops. */
export class TopologyMismatchError extends Error {
  override readonly name = 'TopologyMismatchError';
  readonly code = 'MESSAGING.TOPOLOGY_MISMATCH';
}

/** A handler ran past `HANDLER_TIMEOUT`; retried like any handler error. */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
  readonly code = 'MESSAGING.HANDLER_TIMEOUT';
}

/** `thrown` itself when it is an Error, else an Error that says what was thrown. */
export function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  let shown: string;
  try {
    shown = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    shown = String(thrown);
  }
  return new Error(`The handler threw a value that is not an Error: ${shown}`);
}
