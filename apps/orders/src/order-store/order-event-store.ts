import { Injectable } from '@nestjs/common';
import { LATEST_EVENTS } from '@app/events';
import { type EntityManager } from 'typeorm';
import { type OrderEvent } from '../domain/order.js';
import { ConcurrencyError } from '../domain/order-errors.js';

export interface StoredOrderEvent {
  eventId: string;
  type: OrderEvent['type'];
  eventVersion: number;
  version: number;
  occurredAt: Date;
  data: OrderEvent['data'];
  correlationId?: string;
}

export interface EventMetadataRecord {
  correlationId: string;
  causationId?: string;
}

/**
 * The Order streams in PostgreSQL (`order_events`, its only owner): append with an expected
 * version, read in order. Every method takes the manager of the caller's transaction.
 */
@Injectable()
export class OrderEventStore {
  /** Every event of one stream, oldest first. */
  async read(manager: EntityManager, streamId: string): Promise<StoredOrderEvent[]> {
    const rows = await manager.query<
      {
        event_id: string;
        type: OrderEvent['type'];
        event_version: number;
        version: number;
        occurred_at: Date;
        data: OrderEvent['data'];
        metadata: EventMetadataRecord;
      }[]
    >(
      `SELECT event_id, type, event_version, version, occurred_at, data, metadata FROM order_events WHERE stream_id = $1 ORDER BY version`,
      [streamId],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      type: row.type,
      eventVersion: row.event_version,
      version: row.version,
      occurredAt: row.occurred_at,
      data: row.data,
      correlationId: row.metadata.correlationId,
    }));
  }

  /**
   * Appends events after `expectedVersion`; a concurrent append of the same version fails
   * the unique `(stream_id, version)` and surfaces as `ConcurrencyError`.
   */
  async append(
    manager: EntityManager,
    streamId: string,
    expectedVersion: number,
    events: { eventId: string; event: OrderEvent }[],
    metadata: EventMetadataRecord,
  ): Promise<void> {
    for (const [index, { eventId, event }] of events.entries()) {
      try {
        await manager.query(
          `INSERT INTO order_events (stream_id, version, event_id, type, event_version, data, metadata)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            streamId,
            expectedVersion + index + 1,
            eventId,
            event.type,
            LATEST_EVENTS[event.type].version,
            JSON.stringify(event.data),
            JSON.stringify(metadata),
          ],
        );
      } catch (error) {
        const e = error as {
          code?: string;
          constraint?: string;
          driverError?: { code?: string; constraint?: string };
        };
        const constraint = e.constraint ?? e.driverError?.constraint;
        if (
          (e.code ?? e.driverError?.code) === '23505' &&
          constraint === 'order_events_stream_id_version_key'
        ) {
          throw new ConcurrencyError(streamId, expectedVersion);
        }
        throw error;
      }
    }
  }
}
