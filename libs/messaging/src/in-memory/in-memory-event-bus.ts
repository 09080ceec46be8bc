import {
  type CloudEvent,
  createEvent,
  type DecodedEvent,
  type EventPayloads,
  EventRegistry,
  type EventType,
} from '@app/events';
import { type EntityManager } from 'typeorm';
import { type EventContext } from '../consumer/event-context.js';
import {
  EVENT_HANDLER_METADATA,
  type EventHandlerMetadata,
} from '../consumer/event-handler.decorator.js';
import { classifyFailure, type ExceptionType } from '../consumer/failure-policy.js';
import { type Subscription } from '../topology/topology.js';

type Handler = (event: DecodedEvent, context: EventContext) => Promise<unknown>;

export interface InMemoryDeadLetter {
  consumer: string;
  body: unknown;
  exceptionType: ExceptionType;
  message: string;
  attempts: number;
}

export interface InMemoryEventBusOptions {
  /** The service whose handlers run here; the source of raised events. */
  service?: string;
  defaultCurrency?: string;
  /** Retry levels before a handler error is dead-lettered (production: one per RETRY_DELAYS entry). */
  retries?: number;
  /** The manager handlers get; a handler that touches it without one fails with a clear error. */
  manager?: EntityManager;
}

/**
 * The consume pipeline without a broker, for fast unit tests of handlers: the same envelope
 * parsing, upcasting, schema validation, per-consumer dedup and retry classification. Events a
 * handler raises through `context.publish` are delivered after the handler succeeds, as the
 * outbox would after commit. Retries run at once. Never used in production.
 */
export class InMemoryEventBus {
  private readonly registry: EventRegistry;
  private readonly handlers = new Map<string, { name: string; handle: Handler }[]>();
  private readonly seen = new Set<string>();
  /** Every event raised by a handler, in order. */
  readonly raised: CloudEvent[] = [];
  /** Messages the pipeline gave up on, with the reason. */
  readonly deadLetters: InMemoryDeadLetter[] = [];

  constructor(private readonly options: InMemoryEventBusOptions = {}) {
    this.registry = new EventRegistry({ defaultCurrency: options.defaultCurrency ?? 'EUR' });
  }

  /** Adds a handler for one event type. */
  subscribe<K extends EventType>(
    type: K,
    handle: (event: DecodedEvent<K>, context: EventContext) => Promise<unknown>,
    name = `${type}#${(this.handlers.get(type)?.length ?? 0) + 1}`,
  ): this {
    this.handlers.set(type, [
      ...(this.handlers.get(type) ?? []),
      { name, handle: handle as Handler },
    ]);
    return this;
  }

  /** Adds every `@EventHandler` method of an object, as the Nest module would discover them. */
  register(instance: object): this {
    const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
    for (const method of Object.getOwnPropertyNames(prototype)) {
      const target = prototype[method];
      if (typeof target !== 'function') continue;
      const metadata = Reflect.getMetadata(EVENT_HANDLER_METADATA, target) as
        EventHandlerMetadata | undefined;
      if (!metadata) continue;
      this.subscribe(
        metadata.type,
        (event, context) => (target as Handler).call(instance, event, context),
        `${instance.constructor.name}.${method}`,
      );
    }
    return this;
  }

  /** Publishes the latest version of `type`, as a producer would. */
  async emit<K extends EventType>(
    type: K,
    data: EventPayloads[K],
    subject?: string,
  ): Promise<void> {
    await this.deliver(
      createEvent(type, data, { source: 'test', ...(subject ? { subject } : {}) }),
    );
  }

  /** Runs the pipeline on one message body (a document, a JSON string or raw bytes). */
  async deliver(body: CloudEvent | string | Buffer | object): Promise<void> {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    let event: DecodedEvent;
    try {
      event = this.registry.decode(raw);
    } catch (error) {
      this.deadLetter('(pipeline)', body, error, 0);
      return;
    }
    const handlers = this.handlers.get(event.type) ?? [];
    for (const handler of handlers) await this.run(handler, event, body);
  }

  private async run(
    handler: { name: string; handle: Handler },
    event: DecodedEvent,
    body: unknown,
  ): Promise<void> {
    const key = `${handler.name}:${event.envelope.id}`;
    if (this.seen.has(key)) return;
    const subscription: Pick<Subscription, 'type' | 'queue' | 'deadLetterQueue' | 'waitQueues'> = {
      type: event.type,
      queue: handler.name,
      deadLetterQueue: `${handler.name}.dlq`,
      waitQueues: Array.from({ length: this.options.retries ?? 2 }, (_, i) => ({
        name: `retry.${i}`,
        delayMs: 0,
      })),
    };
    for (let attempt = 0; ; attempt += 1) {
      const raised: CloudEvent[] = [];
      try {
        await handler.handle(event, this.context(event, handler.name, attempt, raised));
      } catch (error) {
        const outcome = classifyFailure(error, attempt, subscription);
        if (outcome.kind === 'retry') continue;
        this.deadLetter(handler.name, body, error, attempt + 1, outcome.exceptionType);
        return;
      }
      this.seen.add(key);
      for (const next of raised) {
        this.raised.push(next);
        await this.deliver(next);
      }
      return;
    }
  }

  private context(
    event: DecodedEvent,
    consumer: string,
    retryCount: number,
    raised: CloudEvent[],
  ): EventContext {
    const manager = this.options.manager;
    const service = this.options.service ?? 'test';
    return {
      get manager(): EntityManager {
        if (!manager)
          throw new Error(
            `${consumer} used context.manager; pass { manager } to InMemoryEventBus.`,
          );
        return manager;
      },
      delivery: { queue: consumer, messageId: event.envelope.id, retryCount, redelivered: false },
      correlationId: event.envelope.correlationid,
      signal: new AbortController().signal,
      standalone: <Row>(sql: string, params?: unknown[]) => {
        if (!manager)
          throw new Error(
            `${consumer} used context.standalone; pass { manager } to InMemoryEventBus.`,
          );
        return manager.query<Row[]>(sql, params);
      },
      publish: (type, data, options = {}) => {
        raised.push(
          createEvent(type, data, {
            ...options,
            source: service,
            correlationId: event.envelope.correlationid,
            causationId: event.envelope.id,
          }),
        );
        return Promise.resolve();
      },
    };
  }

  private deadLetter(
    consumer: string,
    body: unknown,
    error: unknown,
    attempts: number,
    type?: ExceptionType,
  ): void {
    const exceptionType =
      type ?? (error as { exceptionType?: ExceptionType }).exceptionType ?? 'handler-error';
    this.deadLetters.push({
      consumer,
      body,
      exceptionType,
      message: error instanceof Error ? error.message : String(error),
      attempts,
    });
  }
}
