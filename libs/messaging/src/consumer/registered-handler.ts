import { type DecodedEvent, type EventType } from '@app/events';
import { type EventContext } from './event-context.js';

/** A handler the consumer calls for one event type. */
export interface RegisteredHandler {
  type: EventType;
  /** Stable inbox consumer key, `<service>:<Class>.<method>`: renaming a handler resets its dedup. */
  name: string;
  invoke(event: DecodedEvent, context: EventContext): Promise<unknown>;
}
