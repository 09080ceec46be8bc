import { type DecodedEvent, type EventType } from '@app/events';
import { assertTransactionOpen, Semaphore, traceparentOf, transaction } from '@app/platform';
import { type DataSource, type EntityManager } from 'typeorm';
import { HandlerTimeoutError } from '../errors.js';
import { type DeliveryInfo, type EventContext } from '../consumer/event-context.js';
import { type Outbox } from '../outbox/outbox.js';

export type RunResult = 'handled' | 'duplicate';

/**
 * Pool connections kept free of handler transactions (at most half the pool): for the readiness
 * check, the outbox relay, crash-suspect markers and statements a handler commits on its own
 * beside its transaction (email's "sending" marker). Without it, as many handlers as the pool
 * has connections each hold one and wait for a second: every handler and the health check hang.
 */
export const POOL_HEADROOM = 4;

/** Handler transactions one process may hold at once, for a pool of `poolSize` connections. */
export function handlerConcurrencyFor(poolSize: number): number {
  return Math.max(1, poolSize - Math.min(POOL_HEADROOM, Math.floor(poolSize / 2)));
}

/** pg's pool size of a DataSource (`extra.max`, pg's default 10). */
function poolSizeOf(dataSource: DataSource): number {
  return (dataSource.options as { extra?: { max?: number } }).extra?.max ?? 10;
}

/** Runs a handler for an event; `TransactionalRunner` is the production one. */
export interface HandlerRunner {
  run(
    consumer: string,
    event: DecodedEvent,
    delivery: DeliveryInfo,
    invoke: (context: EventContext) => Promise<unknown>,
  ): Promise<RunResult>;
}

/**
 * Runs one handler for one event in one transaction whose first statement inserts the inbox
 * row `(consumer, event id)`: a duplicate inserts nothing and the handler is skipped; otherwise
 * the handler's effects, its follow-up events (outbox) and the inbox row commit together.
 */
export class TransactionalRunner implements HandlerRunner {
  private readonly slots: Semaphore;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly timeoutMs: number,
    /** Handler transactions at once; default: the pool size less the headroom. */
    readonly concurrency = handlerConcurrencyFor(poolSizeOf(dataSource)),
  ) {
    this.slots = new Semaphore(concurrency);
  }

  /** Runs `invoke` once per `(consumer, event id)`, with a timeout. */
  async run(
    consumer: string,
    event: DecodedEvent,
    delivery: DeliveryInfo,
    invoke: (context: EventContext) => Promise<unknown>,
  ): Promise<RunResult> {
    // Messages beyond the limit wait here, unacked, before taking a connection.
    await this.slots.acquire();
    try {
      return await this.transaction(consumer, event, delivery, invoke);
    } finally {
      this.slots.release();
    }
  }

  private transaction(
    consumer: string,
    event: DecodedEvent,
    delivery: DeliveryInfo,
    invoke: (context: EventContext) => Promise<unknown>,
  ): Promise<RunResult> {
    // The timeout covers the whole transaction, the inbox insert included (it can wait on a
    // peer's open transaction holding the same key): past it, the transaction is over for good
    // and nothing the handler still issues is sent (see `transaction`).
    const aborted = new AbortController();
    return transaction(
      this.dataSource,
      async (manager) => {
        // One round trip with the BEGIN sent ahead of it: the inbox row, and a statement_timeout
        // local to this transaction, so no single statement outlives the handler's time either.
        const inserted = await manager.query<unknown[]>(
          `INSERT INTO messaging_inbox (consumer, event_id)
           SELECT $1, $2 FROM (SELECT set_config('statement_timeout', $3, true)) AS timeout
           ON CONFLICT DO NOTHING RETURNING 1`,
          [consumer, event.envelope.id, String(this.timeoutMs)],
        );
        if (inserted.length === 0) return 'duplicate';
        await invoke(this.context(manager, event, delivery, aborted.signal));
        return 'handled';
      },
      {
        timeoutMs: this.timeoutMs,
        timeoutError: () => {
          const error = new HandlerTimeoutError(
            `${consumer} did not finish ${event.type} ${event.envelope.id} within ${this.timeoutMs} ms (HANDLER_TIMEOUT); its transaction was abandoned and it will be retried.`,
          );
          aborted.abort(error);
          return error;
        },
      },
    );
  }

  private context(
    manager: EntityManager,
    event: DecodedEvent,
    delivery: DeliveryInfo,
    signal: AbortSignal,
  ): EventContext {
    const outbox = this.outbox;
    const dataSource = this.dataSource;
    return {
      manager,
      delivery,
      signal,
      correlationId: event.envelope.correlationid,
      async standalone<Row>(sql: string, params: unknown[] = []): Promise<Row[]> {
        assertTransactionOpen(manager);
        return dataSource.query<Row[]>(sql, params);
      },
      async publish(type: EventType, data, options = {}) {
        await outbox.enqueue(manager, type, data, {
          ...options,
          correlationId: event.envelope.correlationid,
          causationId: event.envelope.id,
          // The handler's span, so the next consumer continues this trace.
          ...traceOf(event),
        });
      },
    };
  }
}

/** The handler's span when tracing runs, else the incoming event's trace parent. */
function traceOf(event: DecodedEvent): { traceparent?: string } {
  const traceparent = traceparentOf() ?? event.envelope.traceparent;
  return traceparent ? { traceparent } : {};
}
