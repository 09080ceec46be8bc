import { type CloudEvent } from '@app/events';
import { contextFrom, inSpan, isDatabaseUnavailable, SpanKind, traceparentOf } from '@app/platform';
import { Logger } from '@nestjs/common';
import { type DataSource, type QueryRunner } from 'typeorm';
import { UnroutableMessageError } from '../errors.js';
import { toAmqpMessage } from '../publisher/amqp-message.js';
import { type ConfirmedPublisher } from '../publisher/confirmed-publisher.js';

/** Session advisory lock key of the relay: one active relay per database. */
export const OUTBOX_RELAY_LOCK_KEY = 7_312_004_211;

/**
 * How long an event may find no queue bound for it before that is a warning. At a first boot
 * the producers start before their consumers have declared their queues, so their first events
 * come back unroutable for a few seconds: expected, and logged at info until this age.
 */
export const UNROUTABLE_WARNING_AGE_MS = 60_000;

export interface OutboxRelayOptions {
  /** Rows published per round, all in one confirm window. */
  batchSize: number;
  /** Wait between polls when the outbox is empty. */
  pollIntervalMs: number;
  /** Back-off of a failed row: doubles per attempt from this, up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Sent rows are deleted after this long. */
  sentRetentionMs: number;
  /** Inbox rows are deleted after this long. */
  inboxRetentionMs: number;
  /** How often the retention clean-up runs. */
  cleanupIntervalMs: number;
  /**
   * How long the leader keeps the relay lock while it cannot publish (broker lost, channel
   * down, publishing blocked): then it gives the lock up so a replica that can publish takes
   * the outbox over.
   */
  leaderGraceMs: number;
}

export const DEFAULT_OUTBOX_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 200,
  pollIntervalMs: 100,
  baseBackoffMs: 500,
  maxBackoffMs: 30_000,
  sentRetentionMs: 24 * 3_600_000,
  inboxRetentionMs: 7 * 24 * 3_600_000,
  cleanupIntervalMs: 60_000,
  leaderGraceMs: 2_000,
};

interface PendingRow {
  position: string;
  type: string;
  event_id: string;
  exchange: string;
  mandatory: boolean;
  payload: string;
  attempts: number;
  /** Milliseconds since the event was written to the outbox. */
  age_ms: string;
}

/**
 * Moves committed outbox rows to the broker. Only the replica holding the advisory lock relays.
 * Each round reads a batch with a plain query (no transaction open across broker I/O),
 * publishes it with confirms, then marks the confirmed, unreturned rows sent; a failed or
 * returned row stays pending with an exponential back-off. While the broker is away rows wait.
 */
export class OutboxRelay {
  private readonly logger = new Logger(OutboxRelay.name);
  private running = false;
  private loop?: Promise<void>;
  private lockRunner?: QueryRunner;
  private wake?: () => void;
  private poked = false;
  private lastCleanup = 0;
  /** Since when the leader could not publish. */
  private unableSince?: number;
  /**
   * Positions published and confirmed but not yet marked sent: the next round's read marks them
   * in the same statement (one round trip and one commit fewer per round), and giving the lock
   * up or stopping marks them first. A crash before that republishes them, as a crash between
   * the confirm and the mark always could: consumers drop the duplicates by their inbox.
   */
  private unmarked: string[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: ConfirmedPublisher,
    /** True while a publish would be written now (connected, channel open, not blocked). */
    private readonly canPublish: () => boolean,
    private readonly options: OutboxRelayOptions = DEFAULT_OUTBOX_RELAY_OPTIONS,
    private readonly onPublished?: (type: string) => void,
  ) {}

  /** Starts the relay loop in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks an idle relay to look at the outbox now (for example right after a local commit). */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** True while this replica holds the relay lock. */
  isLeader(): boolean {
    return this.lockRunner !== undefined;
  }

  /** Stops after the current round and gives the lock up. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.releaseLock();
  }

  /** Pending rows and the age of the oldest, for metrics. */
  async backlog(): Promise<{ pending: number; oldestAgeMs: number }> {
    const [row] = await this.dataSource.query<{ pending: string; oldest: string | null }[]>(
      `SELECT count(*) AS pending, EXTRACT(EPOCH FROM now() - min(created_at)) * 1000 AS oldest
         FROM messaging_outbox WHERE sent_at IS NULL`,
    );
    return { pending: Number(row?.pending ?? 0), oldestAgeMs: Number(row?.oldest ?? 0) };
  }

  /**
   * One round: mark the previous round's confirmed rows sent and read the next due rows, in
   * one statement, then publish those. Returns how many rows it read. The relay runs its
   * statements on the connection that holds its lock: a statement that succeeds there also
   * proves the lock is still held, with no round trip of its own.
   */
  async relayOnce(
    db: Pick<DataSource, 'query'> | QueryRunner = this.lockRunner ?? this.dataSource,
  ): Promise<number> {
    if (!this.canPublish()) {
      await this.markSent(db);
      return 0;
    }
    const marking = [...this.unmarked];
    // The read sees the rows as they were before the mark (one snapshot): it skips those.
    const rows = (await db.query(
      `WITH marked AS (
         UPDATE messaging_outbox SET sent_at = now() WHERE position = ANY($2::bigint[])
       )
       SELECT position, event_id, type, exchange, mandatory, payload, attempts,
              EXTRACT(EPOCH FROM now() - created_at) * 1000 AS age_ms FROM messaging_outbox
        WHERE sent_at IS NULL AND available_at <= now() AND position <> ALL($2::bigint[])
        ORDER BY position LIMIT $1`,
      [this.options.batchSize, marking],
    )) as PendingRow[];
    this.unmarked = this.unmarked.slice(marking.length);
    if (!rows.length) return 0;
    const results = await Promise.allSettled(
      rows.map((row) => {
        const event = JSON.parse(row.payload) as CloudEvent;
        return inSpan(
          `${row.type} publish`,
          {
            kind: SpanKind.PRODUCER,
            parent: contextFrom(event.traceparent),
            attributes: {
              'messaging.system': 'rabbitmq',
              'messaging.operation.type': 'publish',
              'messaging.destination.name': row.exchange,
              'messaging.rabbitmq.destination.routing_key': row.type,
              'messaging.message.id': event.id,
              'messaging.message.conversation_id': event.correlationid,
            },
          },
          () => {
            const message = toAmqpMessage(event, row.exchange);
            // The message carries the publish span, so its consumers are its children.
            const traceparent = traceparentOf();
            if (traceparent) Object.assign(message.properties.headers, { traceparent });
            return this.publisher.publish(message, { mandatory: row.mandatory });
          },
        );
      }),
    );
    const sent: string[] = [];
    for (const [index, result] of results.entries()) {
      const row = rows[index]!;
      if (result.status === 'fulfilled') {
        sent.push(row.position);
        this.onPublished?.(row.type);
        continue;
      }
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      const backoff = Math.min(
        this.options.baseBackoffMs * 2 ** row.attempts,
        this.options.maxBackoffMs,
      );
      const line = `Outbox event ${row.event_id} not published (attempt ${row.attempts + 1}): ${reason}`;
      if (
        result.reason instanceof UnroutableMessageError &&
        Number(row.age_ms) < UNROUTABLE_WARNING_AGE_MS
      )
        this.logger.log(`${line} (expected while its consumers start)`);
      else this.logger.warn(line);
      await db.query(
        `UPDATE messaging_outbox SET attempts = attempts + 1, last_error = $2,
                available_at = now() + ($3 || ' milliseconds')::interval WHERE position = $1`,
        [row.position, reason.slice(0, 1000), String(backoff)],
      );
    }
    this.unmarked.push(...sent);
    return rows.length;
  }

  /** Marks the published rows sent now (before the lock is given up, or while unable to publish). */
  private async markSent(db: Pick<DataSource, 'query'> | QueryRunner): Promise<void> {
    const marking = [...this.unmarked];
    if (!marking.length) return;
    await db.query(
      `UPDATE messaging_outbox SET sent_at = now() WHERE position = ANY($1::bigint[])`,
      [marking],
    );
    this.unmarked = this.unmarked.slice(marking.length);
  }

  /** Deletes sent outbox rows and inbox rows past their retention. */
  async cleanup(): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM messaging_outbox WHERE sent_at < now() - ($1 || ' milliseconds')::interval`,
      [String(this.options.sentRetentionMs)],
    );
    await this.dataSource.query(
      `DELETE FROM messaging_inbox WHERE processed_at < now() - ($1 || ' milliseconds')::interval`,
      [String(this.options.inboxRetentionMs)],
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.poked = false;
      let handled = 0;
      try {
        await this.yieldLockIfUnable();
        if (this.canPublish() && (await this.holdLock())) {
          handled = await this.relayOnce();
          if (Date.now() - this.lastCleanup > this.options.cleanupIntervalMs) {
            this.lastCleanup = Date.now();
            await this.cleanup();
          }
        }
      } catch (error) {
        const message = (error as Error).message;
        if (isDatabaseUnavailable(error))
          // Its connection died (and with it the relay lock): nothing was marked sent that was
          // not published. The next round takes the lock again, or leaves it to another replica.
          this.logger.warn(`Outbox relay lost its database connection (${message}); retrying`);
        else this.logger.error(`Outbox relay round failed: ${message}; retrying`);
        await this.releaseLock();
      }
      if (handled < this.options.batchSize && !this.poked)
        await this.sleep(this.options.pollIntervalMs);
    }
  }

  /**
   * A leader that cannot publish holds up the outbox for every replica: past the grace it
   * gives the lock up (and takes it again only once it can publish).
   */
  private async yieldLockIfUnable(): Promise<void> {
    if (!this.lockRunner || this.canPublish()) {
      this.unableSince = undefined;
      return;
    }
    this.unableSince ??= Date.now();
    const unableMs = Date.now() - this.unableSince;
    if (unableMs < this.options.leaderGraceMs) return;
    this.logger.warn(
      `This replica cannot publish to RabbitMQ (for ${unableMs} ms): giving the outbox relay lock up, so a replica that can takes the outbox over`,
    );
    this.unableSince = undefined;
    await this.releaseLock();
  }

  private async holdLock(): Promise<boolean> {
    // The session lock lives as long as its connection. The round's statements run on that
    // connection (see relayOnce): when it is gone they fail, and the lock is released and
    // taken again.
    if (this.lockRunner) return true;
    const runner = this.dataSource.createQueryRunner();
    try {
      const [row] = (await runner.query(`SELECT pg_try_advisory_lock($1) AS locked`, [
        OUTBOX_RELAY_LOCK_KEY,
      ])) as {
        locked: boolean;
      }[];
      if (row?.locked) {
        this.lockRunner = runner;
        this.logger.log('This replica now relays the outbox');
        return true;
      }
    } catch (error) {
      this.logger.warn(`Cannot take the outbox relay lock: ${(error as Error).message}`);
    }
    await runner.release();
    return false;
  }

  private async releaseLock(): Promise<void> {
    const runner = this.lockRunner;
    this.lockRunner = undefined;
    if (!runner || runner.isReleased) return;
    try {
      await this.markSent(runner);
      await runner.query(`SELECT pg_advisory_unlock($1)`, [OUTBOX_RELAY_LOCK_KEY]);
    } catch {
      // The connection is gone, and the session lock with it.
    }
    await runner.release();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
