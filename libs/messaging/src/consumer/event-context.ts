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
 */
export interface EventContext {
  readonly manager: EntityManager;
  readonly delivery: DeliveryInfo;
  readonly correlationId: string;
  publish<K extends EventType>(
    type: K,
    data: EventPayloads[K],
    options?: RaiseOptions,
  ): Promise<void>;
}
