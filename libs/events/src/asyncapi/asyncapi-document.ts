import { ALL_EVENT_VERSIONS, EVENT_TYPES, type EventType } from '../catalog.js';
import {
  CLOUDEVENTS_CONTENT_TYPE,
  CloudEventEnvelopeSchema,
  EVENT_VERSION_HEADER,
} from '../envelope/cloud-event.js';
import { type EventDefinition } from '../event-definition.js';
import { jsonSchemaOf, schemaIdOf } from '../json-schema.js';
import { EVENT_FLOWS, exchangeOf } from '../system.js';

const messageId = (type: string, version: number) => `${type}.v${version}`;

/** The `traceparent` the services copy into the event and into an AMQP header. */
const TRACEPARENT = {
  type: 'string',
  pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
  description: 'W3C trace context of the publish span',
};

/**
 * The AMQP body of one event version as sent: the whole CloudEvent (structured JSON mode),
 * its attributes and extensions pinned to what this type and version carry, and `data` as the
 * version's own schema.
 */
function envelopeOf(definition: EventDefinition, data: Record<string, unknown>) {
  const { properties } = JSON.parse(JSON.stringify(CloudEventEnvelopeSchema)) as {
    properties: Record<string, Record<string, unknown>>;
  };
  return {
    title: `CloudEvent ${definition.type} v${definition.version}`,
    type: 'object',
    required: [
      'specversion',
      'id',
      'type',
      'source',
      'time',
      'datacontenttype',
      'dataschema',
      'data',
      'eventversion',
      'correlationid',
    ],
    properties: {
      ...properties,
      type: { type: 'string', const: definition.type },
      source: { ...properties.source, description: 'The producing service' },
      subject: { ...properties.subject, description: 'The aggregate: order id, user id or SKU' },
      datacontenttype: { type: 'string', const: 'application/json' },
      dataschema: { type: 'string', const: schemaIdOf(definition.type, definition.version) },
      eventversion: {
        type: 'integer',
        const: definition.version,
        description: 'Schema version of data (extension)',
      },
      streamversion: {
        ...properties.streamversion,
        description: "The aggregate's version after this event (extension)",
      },
      correlationid: {
        ...properties.correlationid,
        description: 'The request that started the flow (extension)',
      },
      causationid: {
        ...properties.causationid,
        description: 'The event this one reacts to (extension)',
      },
      traceparent: TRACEPARENT,
      data,
    },
  };
}

/**
 * The AsyncAPI 3.1 document of the whole system, built from the catalog and `EVENT_FLOWS`:
 * one channel per routing key on its producer's topic exchange, a `send` operation for the
 * producer and a `receive` operation (with its queue, retry and dead-letter queues) for every
 * consumer. Each message is the AMQP body as sent (the CloudEvent), its headers, and its AMQP
 * properties (`x-amqp-properties`).
 */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const definition of ALL_EVENT_VERSIONS) {
    const { $schema: _dialect, ...data } = jsonSchemaOf(definition);
    messages[messageId(definition.type, definition.version)] = {
      name: definition.type,
      title: `${definition.type} v${definition.version}`,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      correlationId: { location: '$message.payload#/correlationid' },
      headers: {
        type: 'object',
        required: [EVENT_VERSION_HEADER],
        properties: {
          [EVENT_VERSION_HEADER]: {
            type: 'integer',
            const: definition.version,
            description: 'eventversion, so a consumer can route or filter without the body',
          },
          traceparent: TRACEPARENT,
        },
      },
      payload: envelopeOf(definition, data),
      'x-amqp-properties': {
        messageId: 'the CloudEvent id',
        type: definition.type,
        correlationId: 'the CloudEvent correlationid',
        appId: 'the CloudEvent source (the producing service)',
        timestamp: 'the CloudEvent time, in seconds',
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        deliveryMode: 2,
      },
      bindings: { amqp: { messageType: definition.type, bindingVersion: '0.3.0' } },
    };
  }

  for (const type of EVENT_TYPES) {
    const versions = ALL_EVENT_VERSIONS.filter((definition) => definition.type === type);
    const channelMessages = Object.fromEntries(
      versions.map((definition) => [
        `v${definition.version}`,
        { $ref: `#/components/messages/${messageId(type, definition.version)}` },
      ]),
    );
    channels[type] = {
      address: type,
      title: `${type} on ${exchangeOf(type)}`,
      messages: channelMessages,
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: {
            name: exchangeOf(type),
            type: 'topic',
            durable: true,
            autoDelete: false,
            vhost: '/',
          },
          bindingVersion: '0.3.0',
        },
      },
    };
    const flow = EVENT_FLOWS[type];
    const latest = versions.at(-1)!.version;
    operations[`${flow.producer}.publishes.${type}`] = {
      action: 'send',
      title: `${flow.producer} publishes ${type}`,
      'x-service': flow.producer,
      channel: { $ref: `#/channels/${type}` },
      messages: [{ $ref: `#/channels/${type}/messages/v${latest}` }],
      // Persistent, and mandatory when a service consumes it (an unroutable event stays in
      // the outbox); confirmed by the broker before the outbox row is marked sent.
      bindings: {
        amqp: {
          deliveryMode: 2,
          mandatory: flow.consumers.length > 0,
          timestamp: true,
          bindingVersion: '0.3.0',
        },
      },
    };
    for (const consumer of flow.consumers) {
      operations[`${consumer}.consumes.${type}`] = {
        action: 'receive',
        title: `${consumer} consumes ${type} from queue ${consumer}.${type}`,
        'x-service': consumer,
        'x-queue': `${consumer}.${type}`,
        'x-queue-arguments': {
          'x-queue-type': 'quorum',
          'x-dead-letter-exchange': `${consumer}.dlx`,
          'x-dead-letter-routing-key': `${consumer}.${type}`,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
        'x-retry-queues': `${consumer}.retry.<level>-<delay>, one per RETRY_DELAYS entry, shared by ${consumer}'s queues; back to ${consumer}.${type} by routing key`,
        'x-dead-letter-queue': `${consumer}.${type}.dlq`,
        channel: { $ref: `#/channels/${type}` },
        messages: versions.map((definition) => ({
          $ref: `#/channels/${type}/messages/v${definition.version}`,
        })),
        // Acknowledged after the handler's effects and its inbox row commit.
        bindings: { amqp: { ack: true, bindingVersion: '0.3.0' } },
      };
    }
  }

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Commerce events',
      version: '1.0.0',
      description:
        'Versioned domain events of the commerce services, as CloudEvents 1.0 JSON in structured mode on RabbitMQ topic exchanges (one per producing service): the AMQP body is the whole CloudEvent, the routing key its type, and the AMQP properties mirror its attributes. Generated by `npm run events:schemas` from libs/events/src/system.ts and the catalog.',
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    servers: {
      local: {
        host: '127.0.0.1:5672',
        protocol: 'amqp',
        pathname: '/',
        description: 'Local RabbitMQ',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** Reads the consumers of each event type back out of an AsyncAPI document of this shape. */
export function consumersInDocument(document: Record<string, unknown>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  const operations = (document.operations ?? {}) as Record<string, Record<string, unknown>>;
  for (const operation of Object.values(operations)) {
    if (operation.action !== 'receive') continue;
    const ref = (operation.channel as { $ref: string }).$ref;
    const type = ref.replace('#/channels/', '') as EventType;
    (result[type] ??= []).push(String(operation['x-service']));
  }
  return result;
}
