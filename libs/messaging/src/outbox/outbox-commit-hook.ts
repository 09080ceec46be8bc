import {
  type EntitySubscriberInterface,
  type QueryRunner,
  type TransactionCommitEvent,
} from 'typeorm';

const ENQUEUED = 'messaging.outboxEnqueued';

/** Marks the transaction of `runner` as holding new outbox rows. */
export function markOutboxWrite(runner: QueryRunner | undefined): void {
  if (runner) runner.data[ENQUEUED] = true;
}

/**
 * Wakes the relay right after a local transaction that enqueued events commits, so a
 * same-process write is published without waiting for the next poll. Writes of other
 * replicas are found by polling.
 */
export class OutboxCommitHook implements EntitySubscriberInterface {
  constructor(private readonly onCommit: () => void) {}

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const data = event.queryRunner.data as Record<string, unknown>;
    if (!data[ENQUEUED]) return;
    delete data[ENQUEUED];
    this.onCommit();
  }
}
