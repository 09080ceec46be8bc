import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Where a handler's former inbox keys point: `messaging_inbox_renames (former_consumer ->
 * consumer)`, and the function of the trigger that rewrites an inbox row inserted under a
 * former key. The trigger itself is (re)created by `inboxConsumerRenames`, for exactly the keys
 * the table holds.
 */
export class MessagingInboxRenames1796000000000 implements MigrationInterface {
  name = 'MessagingInboxRenames1796000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE messaging_inbox_renames (
        former_consumer  text PRIMARY KEY,
        consumer         text NOT NULL
      )`);
    await runner.query(`
      CREATE FUNCTION messaging_inbox_rename() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        renamed text;
      BEGIN
        SELECT r.consumer INTO renamed FROM messaging_inbox_renames r
         WHERE r.former_consumer = NEW.consumer;
        IF FOUND THEN
          NEW.consumer := renamed;
        END IF;
        RETURN NEW;
      END
      $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TRIGGER IF EXISTS messaging_inbox_rename ON messaging_inbox`);
    await runner.query(`DROP FUNCTION messaging_inbox_rename()`);
    await runner.query(`DROP TABLE messaging_inbox_renames`);
  }
}

/** Former inbox key -> current one, both `<service>:<...>`. */
export type InboxConsumerRenames = Readonly<Record<string, string>>;

/**
 * A migration that carries the events handled under former inbox keys over to the current ones
 * (a handler given an explicit id, or renamed), so that none is handled again after the upgrade.
 *
 * It first installs the trigger that rewrites a former key on insert: that takes a lock that
 * holds back every inbox insert until the migration commits, and from then on a replica still
 * running the previous release (a rolling upgrade) records what it handles under the current
 * key, and finds there what the new release has handled. Then it moves the rows. `name` ends
 * with the migration's timestamp, as TypeORM requires.
 */
export function inboxConsumerRenames(
  name: string,
  renames: InboxConsumerRenames,
): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(runner: QueryRunner): Promise<void> {
      for (const [former, consumer] of Object.entries(renames)) {
        await runner.query(
          `INSERT INTO messaging_inbox_renames (former_consumer, consumer) VALUES ($1, $2)
           ON CONFLICT (former_consumer) DO UPDATE SET consumer = EXCLUDED.consumer`,
          [former, consumer],
        );
        // An earlier rename to this former key now leads to the current one.
        await runner.query(`UPDATE messaging_inbox_renames SET consumer = $2 WHERE consumer = $1`, [
          former,
          consumer,
        ]);
      }
      await installRenameTrigger(runner);
      for (const [former, consumer] of Object.entries(renames)) {
        await moveInboxRows(runner, former, consumer);
      }
    }

    async down(runner: QueryRunner): Promise<void> {
      await runner.query(
        `DELETE FROM messaging_inbox_renames WHERE former_consumer = ANY($1::text[])`,
        [Object.keys(renames)],
      );
      // The trigger goes before the rows move back, or it would rewrite them forward again.
      await installRenameTrigger(runner);
      for (const [former, consumer] of Object.entries(renames)) {
        await moveInboxRows(runner, consumer, former);
      }
    }
  };
}

/**
 * Re-creates the trigger for the former keys the table holds (none: no trigger). Its `WHEN`
 * lists them, so an insert under a current key never calls the function.
 */
async function installRenameTrigger(runner: QueryRunner): Promise<void> {
  await runner.query(`DROP TRIGGER IF EXISTS messaging_inbox_rename ON messaging_inbox`);
  const rows = (await runner.query(
    `SELECT quote_literal(former_consumer) AS former FROM messaging_inbox_renames
      ORDER BY former_consumer`,
  )) as { former: string }[];
  if (rows.length === 0) return;
  await runner.query(
    `CREATE TRIGGER messaging_inbox_rename BEFORE INSERT ON messaging_inbox FOR EACH ROW
       WHEN (NEW.consumer IN (${rows.map((row) => row.former).join(', ')}))
       EXECUTE FUNCTION messaging_inbox_rename()`,
  );
}

/** Moves the inbox rows of one key to another, keeping their time (for retention). */
async function moveInboxRows(runner: QueryRunner, from: string, to: string): Promise<void> {
  await runner.query(
    `INSERT INTO messaging_inbox (consumer, event_id, processed_at)
     SELECT $2, event_id, processed_at FROM messaging_inbox WHERE consumer = $1
     ON CONFLICT DO NOTHING`,
    [from, to],
  );
  await runner.query(`DELETE FROM messaging_inbox WHERE consumer = $1`, [from]);
}
