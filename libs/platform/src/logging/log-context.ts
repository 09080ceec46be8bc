import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written inside a request or a message handler carries. */
export interface LogContext {
  correlationId?: string;
  eventId?: string;
  eventType?: string;
  /** The aggregate the event or request is about (an order id, a user id). */
  subject?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `work` with `context` attached to every log line it writes. */
export function withLogContext<T>(context: LogContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, work);
}

/** The context of the current request or message, if any. */
export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
