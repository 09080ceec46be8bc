import {
  type CloudEvent,
  createEvent,
  type EventMetadata,
  type EventPayloads,
  type EventRegistry,
  type EventType,
  exchangeOf,
  hasConsumers,
} from '@app/events';
import { traceparentOf } from '@app/platform';
import { type EntityManager } from 'typeorm';
import { markOutboxWrite } from './outbox-commit-hook.js';

/**
 * The write side of the transactional outbox: `enqueue` inserts the event in the caller's
 * transaction, so it is published if and only if that transaction commits.
 */
export class Outbox {
  constructor(
    private readonly service: string,
    private readonly registry: EventRegistry,
  ) {}

  /** Builds the latest version of `type` and enqueues it inside `manager`'s transaction. */
  async enqueue<K extends EventType>(
    manager: EntityManager,
    type: K,
    data: EventPayloads[K],
    metadata: Omit<EventMetadata, 'source'> = {},
  ): Promise<CloudEvent<K, EventPayloads[K]>> {
    // The active span (an HTTP request, a handler) becomes the event's trace parent.
    const traceparent = metadata.traceparent ?? traceparentOf();
    const event = createEvent(type, data, {
      ...metadata,
      ...(traceparent ? { traceparent } : {}),
      source: this.service,
    });
    await this.enqueueEvent(manager, event);
    return event;
  }

  /** Enqueues a built event; it is validated first, so a bad event never leaves the service. */
  async enqueueEvent(manager: EntityManager, event: CloudEvent): Promise<void> {
    const decoded = this.registry.decodeDocument(event);
    const exchange = exchangeOf(decoded.type);
    if (exchange !== `${this.service}.events`) {
      throw new Error(
        `Service "${this.service}" cannot publish ${decoded.type}: it belongs to ${exchange}. Only an event's producer publishes it.`,
      );
    }
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error(
        `Outbox.enqueue(${decoded.type}) needs the EntityManager of an open transaction, so the event commits with the change it describes.`,
      );
    }
    markOutboxWrite(manager.queryRunner);
    await manager.query(
      `INSERT INTO messaging_outbox (event_id, type, exchange, mandatory, payload) VALUES ($1, $2, $3, $4, $5)`,
      [event.id, event.type, exchange, hasConsumers(decoded.type), JSON.stringify(event)],
    );
  }
}
