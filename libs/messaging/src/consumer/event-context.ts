import { type EventMetadata, type EventPayloads, type EventType } from '@app/events';
import { type EntityManager } from 'typeorm';

/** Facts about the delivery being handled. */
export interface DeliveryInfo {
  queue: string;
  messageId: string;
  /** Retry level this delivery is at (0 for the first attempt). */
  retryCount: number;
  redelivered: boolean;
}

/** Extra producer facts a handler may set on an event it raises. */
export type RaiseOptions = Pick<EventMetadata, 'subject' | 'streamVersion' | 'id'>;

/**
 * What a handler gets beside the event: the transaction that holds the inbox row (write only
 * through `manager`), and `publish`, which enqueues a follow-up event in that same transaction
 * with the correlation id carried over and this event as its cause.
 *
 * Once the handler times out (`HANDLER_TIMEOUT`) its transaction is over for good: every
 * statement issued through `manager`, `standalone` or the pipelining helpers fails without
 * being sent, and `signal` is aborted (pass it on to I/O that accepts one; check it before a
 * side effect the database cannot undo).
 */
export interface EventContext {
  readonly manager: EntityManager;
  readonly delivery: DeliveryInfo;
  readonly correlationId: string;
  /** Aborted when the handler's time is up. */
  readonly signal: AbortSignal;
  /**
   * Runs one statement that commits on its own, beside the handler's transaction (email's
   * "sending" marker, which must survive a crash of the send). Refused once the handler's
   * transaction has ended.
   */
  standalone<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  publish<K extends EventType>(
    type: K,
    data: EventPayloads[K],
    options?: RaiseOptions,
  ): Promise<void>;
}
