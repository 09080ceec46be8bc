import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The decoded event, as a handler parameter. Optional: without parameter decorators a handler
 * receives `(event, context)` as they are. With them, pipes apply:
 * `@EventPayload(MyPipe) event: DecodedEvent<'order.placed'>`.
 */
export const EventPayload = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  context.getArgByIndex<unknown>(0),
);

/** The `EventContext` (transaction manager, delivery facts, `publish`), as a handler parameter. */
export const EventContextParam = createParamDecorator((_data: unknown, context: ExecutionContext) =>
  context.getArgByIndex<unknown>(1),
);
