import {
  ALL_EVENT_VERSIONS,
  type EventPayloads,
  type EventType,
  isEventType,
  LATEST_EVENTS,
} from '../catalog.js';
import { CloudEventEnvelopeSchema, type CloudEvent } from '../envelope/cloud-event.js';
import {
  MalformedMessageError,
  SchemaViolationError,
  UnknownEventTypeError,
  UnsupportedVersionError,
} from '../errors.js';
import { jsonSchemaOf } from '../json-schema.js';
import { type UpcastContext, type Upcaster, UPCASTERS } from '../versioning/upcasting.js';
import { createAjv, describeErrors, type ValidateFunction } from '../validation.js';

/** A message turned into a typed event of the latest version of its type. */
export type DecodedEvent<K extends EventType = EventType> = {
  [T in K]: {
    type: T;
    /** The version the handler sees: always the latest. */
    version: number;
    /** The version that was on the wire, before upcasting. */
    receivedVersion: number;
    data: EventPayloads[T];
    envelope: CloudEvent<T, EventPayloads[T]>;
  };
}[K];

export interface EventRegistryOptions extends UpcastContext {
  /** Extra upcasters, for tests of the chain; the catalog's own are always there. */
  upcasters?: readonly Upcaster[];
}

/**
 * Answers, for a raw message: is it a CloudEvent, of a known type and version? It upcasts the
 * payload to the latest version, validates it against the compiled JSON Schemas and returns the
 * typed event, or throws the contract error that names the `x-exception-type`.
 */
export class EventRegistry {
  private readonly validateEnvelope: ValidateFunction;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly upcasters = new Map<string, Upcaster>();

  constructor(private readonly options: EventRegistryOptions) {
    const ajv = createAjv();
    this.validateEnvelope = ajv.compile(JSON.parse(JSON.stringify(CloudEventEnvelopeSchema)));
    for (const definition of ALL_EVENT_VERSIONS) {
      this.validators.set(
        key(definition.type, definition.version),
        ajv.compile(jsonSchemaOf(definition)),
      );
    }
    for (const upcaster of [...UPCASTERS, ...(options.upcasters ?? [])]) {
      this.upcasters.set(key(upcaster.type, upcaster.fromVersion), upcaster);
    }
  }

  /** The latest version of a type. */
  latestVersion(type: EventType): number {
    return LATEST_EVENTS[type].version;
  }

  /** Parses, checks, upcasts and validates one message body. */
  decode(body: Buffer | string): DecodedEvent {
    let document: unknown;
    try {
      document = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
    } catch (error) {
      throw new MalformedMessageError(`Body is not JSON: ${(error as Error).message}`);
    }
    return this.decodeDocument(document);
  }

  /** Checks, upcasts and validates an already parsed CloudEvents document. */
  decodeDocument(document: unknown): DecodedEvent {
    if (!this.validateEnvelope(document)) {
      throw new MalformedMessageError(
        `Not a CloudEvents 1.0 envelope of this system: ${describeErrors(this.validateEnvelope.errors)}`,
      );
    }
    const envelope = document as CloudEvent;
    if (!isEventType(envelope.type)) {
      throw new UnknownEventTypeError(
        `Unknown event type "${envelope.type}": no such type in the catalog.`,
      );
    }
    const type = envelope.type;
    const latest = this.latestVersion(type);
    const received = envelope.eventversion;
    if (received > latest) {
      throw new UnsupportedVersionError(
        `${type} v${received} is newer than this consumer knows (latest v${latest}): deploy the newer consumer, then replay the dead letter.`,
      );
    }
    let data: unknown = this.validate(type, received, envelope.data);
    for (let version = received; version < latest; version += 1) {
      const upcaster = this.upcasters.get(key(type, version));
      if (!upcaster) {
        throw new UnsupportedVersionError(
          `${type} v${version} has no upcaster to v${version + 1}.`,
        );
      }
      data = this.validate(type, version + 1, upcaster.upcast(data, this.options));
    }
    const upcasted = { ...envelope, data, eventversion: latest } as CloudEvent;
    return {
      type,
      version: latest,
      receivedVersion: received,
      data,
      envelope: upcasted,
    } as DecodedEvent;
  }

  private validate(type: EventType, version: number, data: unknown): unknown {
    const validator = this.validators.get(key(type, version));
    if (!validator) {
      throw new UnsupportedVersionError(
        `${type} v${version} is not a released version of ${type}.`,
      );
    }
    if (!validator(data)) {
      throw new SchemaViolationError(`${type} v${version}: ${describeErrors(validator.errors)}`);
    }
    return data;
  }
}

function key(type: string, version: number): string {
  return `${type}@${version}`;
}
