import { CLOUDEVENTS_CONTENT_TYPE, type CloudEvent, EVENT_VERSION_HEADER } from '@app/events';
import { type MessagePropertyHeaders, type Options } from 'amqplib';

export { EVENT_VERSION_HEADER };

export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: Options.Publish & { messageId: string; headers: MessagePropertyHeaders };
}

/** AMQP properties mirroring a CloudEvent (docs/contract.md section 4): id, type, correlation, time, source. */
export function toAmqpMessage(event: CloudEvent, exchange: string): OutgoingMessage {
  const headers: MessagePropertyHeaders = { [EVENT_VERSION_HEADER]: event.eventversion };
  if (event.traceparent) headers.traceparent = event.traceparent;
  return {
    exchange,
    routingKey: event.type,
    body: Buffer.from(JSON.stringify(event)),
    properties: {
      messageId: event.id,
      type: event.type,
      correlationId: event.correlationid,
      timestamp: Math.floor(Date.parse(event.time) / 1000),
      appId: event.source,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      persistent: true,
      headers,
    },
  };
}
