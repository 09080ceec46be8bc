import { type DecodedEvent, type EventType } from '@app/events';
import { type EventContext } from './event-context.js';

/** A handler the consumer calls for one event type. */
export interface RegisteredHandler {
  type: EventType;
  /** Inbox consumer key `<service>:<id>`, from the id its `@EventHandler` declares. */
  name: string;
  invoke(event: DecodedEvent, context: EventContext): Promise<unknown>;
}
