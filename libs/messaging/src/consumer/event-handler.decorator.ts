import { type EventType } from '@app/events';
import { SetMetadata } from '@nestjs/common';
import { HandlerDeclarationError } from '../errors.js';

export const EVENT_HANDLER_METADATA = 'messaging:event-handler';

/** A handler id: lower-case words joined by hyphens, such as `reserve-stock`. */
export const HANDLER_ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export interface EventHandlerOptions {
  /**
   * The handler's stable identity within its service, part of its inbox key
   * `<service>:<id>`: the events it has handled are remembered under it, so renaming the class
   * or the method changes nothing, and changing the id makes it a new handler that handles
   * every redelivered event again.
   */
  id: string;
}

export interface EventHandlerMetadata {
  type: EventType;
  id: string;
}

/**
 * Marks a provider or controller method as the handler of one event type, under a stable id
 * (unique within the service; a duplicate stops the boot). The service gets a queue
 * `<service>.<type>`; the method receives `(event: DecodedEvent<type>, context: EventContext)`
 * and runs in the transaction that holds its inbox row `(<service>:<id>, event id)`. Guards and
 * interceptors apply.
 */
export const EventHandler = (type: EventType, options: EventHandlerOptions): MethodDecorator => {
  if (!HANDLER_ID_PATTERN.test(options.id)) {
    throw new HandlerDeclarationError(
      `@EventHandler('${type}', { id: '${options.id}' }): a handler id is lower-case words joined by hyphens (such as 'reserve-stock'); choose one that names what the handler does.`,
    );
  }
  return SetMetadata<string, EventHandlerMetadata>(EVENT_HANDLER_METADATA, {
    type,
    id: options.id,
  });
};
