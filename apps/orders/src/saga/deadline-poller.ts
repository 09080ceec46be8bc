import { transaction, withLogContext } from '@app/platform';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type OrderCommand } from '../domain/order.js';
import { OrderCommandService } from '../orders/order-command.service.js';

/** How often due deadlines are looked for. */
export const DEADLINE_POLL_MS = 500;
const BATCH = 50;

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
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Applies every due deadline once; returns how many were applied. */
  async runOnce(): Promise<number> {
    return transaction(this.dataSource, async (manager) => {
      const due = await manager.query<{ order_id: string; kind: 'reservation' | 'payment' }[]>(
        `SELECT order_id, kind FROM order_deadlines WHERE due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      for (const { order_id: orderId, kind } of due) {
        const command: OrderCommand =
          kind === 'reservation'
            ? {
                type: 'RejectOrder',
                orderId,
                reason: 'No reservation outcome in time',
                shortSkus: [],
              }
            : { type: 'CancelOrder', orderId, reason: 'payment-timeout' };
        await manager.query(`DELETE FROM order_deadlines WHERE order_id = $1 AND kind = $2`, [
          orderId,
          kind,
        ]);
        const state = await this.commands.executeIn(manager, command, {});
        withLogContext({}, () =>
          this.logger.log(`${kind} deadline of order ${orderId} passed: now ${state.status}`),
        );
      }
      return due.length;
    });
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
