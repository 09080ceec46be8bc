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
