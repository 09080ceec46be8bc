import { type DataSource } from 'typeorm';

/**
 * Tells a poison message from its innocent neighbours after a crash. A redelivered message
 * runs alone, and a row saying so is committed before it starts and deleted after. If the
 * process dies during that run, the row survives: on the next redelivery that message, and only
 * it, is the suspect. Messages that were merely prefetched beside it carry no row.
 */
export class CrashSuspects {
  constructor(private readonly dataSource: DataSource) {}

  /** True when this message was running alone when its consumer last died. */
  async crashedWhileRunning(queue: string, messageId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `SELECT 1 FROM messaging_crash_suspects WHERE queue = $1 AND message_id = $2`,
      [queue, messageId],
    );
    return rows.length > 0;
  }

  /** Commits "this message is running alone now". */
  async markRunning(queue: string, messageId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO messaging_crash_suspects (queue, message_id) VALUES ($1, $2)
       ON CONFLICT (queue, message_id) DO UPDATE SET started_at = now()`,
      [queue, messageId],
    );
  }

  /** The run ended (any outcome but a crash). */
  async clear(queue: string, messageId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM messaging_crash_suspects WHERE queue = $1 AND message_id = $2`,
      [queue, messageId],
    );
  }
}
