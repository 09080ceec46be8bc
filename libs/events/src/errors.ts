/** Why an incoming message cannot be turned into a typed event; each maps to an `x-exception-type`. */
export type ContractExceptionType =
  'malformed-message' | 'unknown-event-type' | 'unsupported-version' | 'schema-violation';

/** Base of the contract errors: never retryable, the message goes to the dead-letter queue. */
export abstract class EventContractError extends Error {
  abstract readonly exceptionType: ContractExceptionType;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The body is not JSON, or not a CloudEvents 1.0 envelope. */
export class MalformedMessageError extends EventContractError {
  readonly exceptionType = 'malformed-message';
}

/** The envelope names a type this catalog, or this queue's handler, does not know. */
export class UnknownEventTypeError extends EventContractError {
  readonly exceptionType = 'unknown-event-type';
}

/** The envelope's `eventversion` is newer than (or otherwise not one of) the known versions. */
export class UnsupportedVersionError extends EventContractError {
  readonly exceptionType = 'unsupported-version';
}

/** The payload does not match the JSON Schema of its type and version. */
export class SchemaViolationError extends EventContractError {
  readonly exceptionType = 'schema-violation';
}
