import { randomUUID } from 'node:crypto';
import { type EventPayloads, type EventType, LATEST_EVENTS } from '../catalog.js';
import { schemaIdOf } from '../json-schema.js';
import { type CloudEvent } from './cloud-event.js';

/** What a producer says about an event besides its payload. */
export interface EventMetadata {
  /** The producing service (CloudEvents `source`, AMQP `appId`). */
  source: string;
  /** The aggregate id (CloudEvents `subject`). */
  subject?: string;
  /** The aggregate's version after this event (`streamversion`). */
  streamVersion?: number;
  /** Carried over from the request or the message being handled; new when absent. */
  correlationId?: string;
  /** Id of the message being handled when this event was raised. */
  causationId?: string;
  traceparent?: string;
  /** Defaults to a new UUID. */
  id?: string;
  time?: Date;
}

/** Builds the CloudEvents document of the latest version of `type`: what producers publish. */
export function createEvent<K extends EventType>(
  type: K,
  data: EventPayloads[K],
  metadata: EventMetadata,
): CloudEvent<K, EventPayloads[K]> {
  const version = LATEST_EVENTS[type].version;
  const id = metadata.id ?? randomUUID();
  const event: CloudEvent<K, EventPayloads[K]> = {
    specversion: '1.0',
    id,
    type,
    source: metadata.source,
    time: (metadata.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    dataschema: schemaIdOf(type, version),
    data,
    eventversion: version,
    correlationid: metadata.correlationId ?? id,
  };
  if (metadata.subject !== undefined) event.subject = metadata.subject;
  if (metadata.streamVersion !== undefined) event.streamversion = metadata.streamVersion;
  if (metadata.causationId !== undefined) event.causationid = metadata.causationId;
  if (metadata.traceparent !== undefined) event.traceparent = metadata.traceparent;
  return event;
}
