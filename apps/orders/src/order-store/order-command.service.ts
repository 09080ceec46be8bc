import { Outbox } from '@app/messaging';
import {
  SERVICE_CONFIG,
  type ServiceConfig,
  together,
  transaction,
  withLogContext,
} from '@app/platform';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  decide,
  evolve,
  initialOrderState,
  type OrderCommand,
  type OrderEvent,
  type OrderState,
} from '../domain/order.js';
import { ConcurrencyError } from '../domain/order-errors.js';
import { OrderEventStore } from './order-event-store.js';
import { OrdersReadModel } from './orders-read-model.js';
import { OrderDeadlines } from '../saga/order-deadlines.js';

/** Attempts of a command that keeps meeting concurrent appends, before answering 409. */
export const COMMAND_ATTEMPTS = 3;

export interface CommandMetadata {
  correlationId?: string;
  causationId?: string;
}

/**
 * Runs Order commands: load the stream, `decide`, append with the expected version, update
 * the read model, enqueue the events in the outbox and (re)schedule the saga deadlines, all in
 * one transaction.
 */
@Injectable()
export class OrderCommandService {
  private readonly logger = new Logger(OrderCommandService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly events: OrderEventStore,
    private readonly views: OrdersReadModel,
    private readonly deadlines: OrderDeadlines,
  ) {}

  /** Runs a command in its own transaction (see `inTransaction`). */
  execute(command: OrderCommand, metadata: CommandMetadata): Promise<OrderState> {
    return this.inTransaction((manager) => this.executeIn(manager, command, metadata));
  }

  /**
   * Runs `work` in its own transaction, bounded like a handler so that a request never holds
   * its locks for long. A transaction that meets a concurrent append runs again on fresh
   * state, `COMMAND_ATTEMPTS` times in all; then the `ConcurrencyError` goes to the caller,
   * answered 409 through `ORDER_ERROR_STATUS`.
   */
  async inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await transaction(this.dataSource, work, {
          timeoutMs: this.config.handlerTimeoutMs,
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= COMMAND_ATTEMPTS) throw error;
      }
    }
  }

  /** Runs a command inside the caller's transaction (saga handlers, deadline poller). */
  async executeIn(
    manager: EntityManager,
    command: OrderCommand,
    metadata: CommandMetadata,
  ): Promise<OrderState> {
    // A new order's stream is empty: its id was just generated (and if it were not, the
    // append at version 1 would fail as a concurrent write).
    const history =
      command.type === 'PlaceOrder' ? [] : await this.events.read(manager, command.orderId);
    const state = history.reduce(
      (current, stored) => evolve(current, stored as unknown as OrderEvent),
      initialOrderState,
    );
    const events = decide(command, state).map((event) => ({ eventId: randomUUID(), event }));
    if (!events.length) return state;
    // Every event of an order carries the correlation id of the request that placed it, so
    // one order can be followed across the services whatever later request touched it.
    const correlationId = history[0]?.correlationId ?? metadata.correlationId ?? randomUUID();
    const versions = events.map((_, index) => state.version + index + 1);
    const next = events.reduce((current, { event }) => evolve(current, event), state);
    // The writes do not depend on each other: issued together, they share one round trip on
    // a pipelining connection. A failed append (a concurrent command) rolls all of them back.
    await together(manager, () => [
      this.events.append(manager, command.orderId, state.version, events, {
        correlationId,
        ...(metadata.causationId ? { causationId: metadata.causationId } : {}),
      }),
      ...events.map(({ eventId, event }, index) =>
        this.outbox.enqueue(manager, event.type, event.data, {
          id: eventId,
          subject: command.orderId,
          streamVersion: versions[index],
          correlationId,
          ...(metadata.causationId ? { causationId: metadata.causationId } : {}),
        }),
      ),
      this.views.save(manager, next),
      this.scheduleDeadlines(manager, next),
    ]);
    withLogContext({ correlationId, subject: command.orderId }, () =>
      this.logger.log(
        `order ${command.orderId}: ${command.type} -> ${events.map((e) => e.event.type).join(', ')}; now ${next.status} v${next.version}`,
      ),
    );
    return next;
  }

  /**
   * PENDING waits for a reservation, CONFIRMED for a payment; finished orders wait for nothing.
   */
  private async scheduleDeadlines(manager: EntityManager, state: OrderState): Promise<void> {
    if (state.status === 'NONE') return;
    const wait =
      state.status === 'PENDING'
        ? { kind: 'reservation' as const, ms: this.config.orderReservationTimeoutMs }
        : state.status === 'CONFIRMED'
          ? { kind: 'payment' as const, ms: this.config.orderPaymentTimeoutMs }
          : undefined;
    await this.deadlines.set(manager, state.orderId, wait);
  }
}
