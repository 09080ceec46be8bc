/**
 * An error class of libs/messaging: its `name` says which, and `code` is the stable identifier
 * logs and dead-letter headers carry.
 */
function messagingError<const Name extends string, const Code extends string>(
  name: Name,
  code: Code,
) {
  return class extends Error {
    override readonly name: Name = name;
    readonly code: Code = code;
  };
}

/** The broker cannot be reached now: nothing was sent; the caller (the outbox relay) retries. */
export const BrokerUnavailableError = messagingError(
  'BrokerUnavailableError',
  'MESSAGING.BROKER_UNAVAILABLE',
);
export type BrokerUnavailableError = InstanceType<typeof BrokerUnavailableError>;

/** The broker returned a `mandatory` publish: no queue is bound for that routing key. */
export const UnroutableMessageError = messagingError(
  'UnroutableMessageError',
  'MESSAGING.UNROUTABLE',
);
export type UnroutableMessageError = InstanceType<typeof UnroutableMessageError>;

/** The broker did not confirm a publish in time, or refused it (nack). */
export const PublishNotConfirmedError = messagingError(
  'PublishNotConfirmedError',
  'MESSAGING.NOT_CONFIRMED',
);
export type PublishNotConfirmedError = InstanceType<typeof PublishNotConfirmedError>;

/** A queue or exchange exists with other arguments than this service declares; boot stops. */
export const TopologyMismatchError = messagingError(
  'TopologyMismatchError',
  'MESSAGING.TOPOLOGY_MISMATCH',
);
export type TopologyMismatchError = InstanceType<typeof TopologyMismatchError>;

/** A handler ran past `HANDLER_TIMEOUT`; retried like any handler error. */
export const HandlerTimeoutError = messagingError(
  'HandlerTimeoutError',
  'MESSAGING.HANDLER_TIMEOUT',
);
export type HandlerTimeoutError = InstanceType<typeof HandlerTimeoutError>;

/** An `@EventHandler` declares an invalid id, or one another handler of the service has. */
export const HandlerDeclarationError = messagingError(
  'HandlerDeclarationError',
  'MESSAGING.HANDLER_DECLARATION',
);
export type HandlerDeclarationError = InstanceType<typeof HandlerDeclarationError>;

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
