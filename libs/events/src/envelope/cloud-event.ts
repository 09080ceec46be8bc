import { Type } from '@sinclair/typebox';

/** `content-type` of a CloudEvents JSON document in structured mode. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';
export const CLOUDEVENTS_SPEC_VERSION = '1.0';

/** AMQP header carrying the event's schema version, so tools can route or filter without parsing. */
export const EVENT_VERSION_HEADER = 'x-event-version';

/**
 * A CloudEvents 1.0 document (structured JSON mode) with this system's extensions:
 * `eventversion` (integer schema version), `streamversion` (the aggregate's version),
 * `correlationid`, `causationid` and the W3C `traceparent`.
 */
export interface CloudEvent<TType extends string = string, TData = unknown> {
  specversion: '1.0';
  id: string;
  type: TType;
  source: string;
  subject?: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema?: string;
  data: TData;
  eventversion: number;
  streamversion?: number;
  correlationid: string;
  causationid?: string;
  traceparent?: string;
}

const Id = Type.String({ minLength: 1, maxLength: 256 });

/** The JSON Schema of the envelope; the payload is checked separately against its own version. */
export const CloudEventEnvelopeSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Id,
  type: Type.String({ minLength: 1, maxLength: 128 }),
  source: Type.String({ minLength: 1, maxLength: 256 }),
  subject: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  time: Type.String({ format: 'date-time' }),
  datacontenttype: Type.Optional(Type.Literal('application/json')),
  dataschema: Type.Optional(Type.String({ minLength: 1 })),
  data: Type.Object({}),
  eventversion: Type.Integer({ minimum: 1 }),
  streamversion: Type.Optional(Type.Integer({ minimum: 0 })),
  correlationid: Id,
  causationid: Type.Optional(Id),
  traceparent: Type.Optional(
    Type.String({ pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' }),
  ),
});
