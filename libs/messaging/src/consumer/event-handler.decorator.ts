import { type EventType } from '@app/events';
import { SetMetadata } from '@nestjs/common';

export const EVENT_HANDLER_METADATA = 'messaging:event-handler';

export interface EventHandlerMetadata {
  type: EventType;
}

/**
 * Marks a provider or controller method as the handler of one event type. The service gets a
 * queue `<service>.<type>`; the method receives `(event: DecodedEvent<type>, context: EventContext)`
 * and runs in the transaction that holds its inbox row. Guards and interceptors apply.
 */
export const EventHandler = (type: EventType): MethodDecorator =>
  SetMetadata<string, EventHandlerMetadata>(EVENT_HANDLER_METADATA, { type });
