import { SERVICE_CONFIG, type ServiceConfig, transaction, withLogContext } from '@app/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type OrderCommand } from '../domain/order.js';
import { OrderError } from '../domain/order-errors.js';
import { OrderCommandService } from '../order-store/order-command.service.js';
import { type Deadline, OrderDeadlines } from './order-deadlines.js';

/** How often due deadlines are looked for. */
export const DEADLINE_POLL_MS = 500;
/** Deadlines applied per poll at most. */
const BATCH = 50;
/** A deadline that failed is tried again this much later. */
const DEADLINE_RETRY_MS = 5_000;

/** The command a passed deadline issues. */
function commandFor({ order_id: orderId, kind }: Deadline): OrderCommand {
  return kind === 'reservation'
    ? { type: 'RejectOrder', orderId, reason: 'No reservation outcome in time', shortSkus: [] }
    : { type: 'CancelOrder', orderId, reason: 'payment-timeout' };
}

/**
 * Enforces the persisted saga deadlines: a PENDING order with no reservation outcome is
 * rejected, a CONFIRMED order left unpaid is cancelled. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so several replicas poll safely; deadlines survive restarts.
 */
@Injectable()
export class DeadlinePoller implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeadlinePoller.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly commands: OrderCommandService,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    private readonly deadlines: OrderDeadlines,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Applies due deadlines, each in a transaction of its own: one that fails is set aside (its
   * due time pushed back) and the others go on. Returns how many were applied.
   */
  async runOnce(): Promise<number> {
    let applied = 0;
    for (let i = 0; i < BATCH && !this.stopped; i++) {
      const outcome = await this.applyNext();
      if (outcome === 'none') break;
      if (outcome === 'applied') applied += 1;
    }
    return applied;
  }

  /** Claims the next due deadline (`SKIP LOCKED`: replicas poll safely) and applies it. */
  private async applyNext(): Promise<'applied' | 'dropped' | 'failed' | 'none'> {
    let claimed: Deadline | undefined;
    try {
      return await transaction(
        this.dataSource,
        async (manager) => {
          claimed = await this.deadlines.claimDue(manager);
          if (!claimed) return 'none';
          const { order_id: orderId, kind } = claimed;
          const state = await this.commands.executeIn(manager, commandFor(claimed), {});
          withLogContext({ subject: orderId }, () =>
            this.logger.log(`${kind} deadline of order ${orderId} passed: now ${state.status}`),
          );
          return 'applied';
        },
        { timeoutMs: this.config.handlerTimeoutMs },
      );
    } catch (error) {
      if (!claimed) throw error;
      return this.setAside(claimed, error);
    }
  }

  /**
   * A deadline that could not be applied: a domain refusal means there is nothing to enforce
   * (the order does not exist), so it is dropped; anything else is retried later.
   */
  private async setAside(deadline: Deadline, error: unknown): Promise<'dropped' | 'failed'> {
    const { order_id: orderId, kind } = deadline;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof OrderError) {
      await this.deadlines.drop(this.dataSource.manager, deadline);
      this.logger.warn(`${kind} deadline of order ${orderId} dropped: ${message}`);
      return 'dropped';
    }
    await this.deadlines.postpone(this.dataSource.manager, deadline, DEADLINE_RETRY_MS);
    this.logger.warn(
      `${kind} deadline of order ${orderId} failed (${message}); retried in ${DEADLINE_RETRY_MS} ms`,
    );
    return 'failed';
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => undefined)
        .catch((error: Error) =>
          this.logger.warn(`Deadline poll failed: ${error.message}; retrying`),
        )
        .finally(() => this.schedule());
    }, DEADLINE_POLL_MS);
  }
}
