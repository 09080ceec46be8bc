import { BrokerProbe, createTestVhost, type TestVhost } from './broker.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * What an integration suite runs on: a RabbitMQ vhost and a PostgreSQL database of its own, and a
 * probe on the vhost. A suite closes what it started on them, then calls `dispose`.
 */
export class SuiteFixture {
  private constructor(
    readonly vhost: TestVhost,
    readonly database: TestDatabase,
    readonly probe: BrokerProbe,
  ) {}

  /** Creates the vhost and database (named after `name`) and opens the probe. */
  static async create(name: string): Promise<SuiteFixture> {
    const vhost = await createTestVhost(name);
    let database: TestDatabase | undefined;
    try {
      database = await createTestDatabase(name);
      return new SuiteFixture(vhost, database, await BrokerProbe.open(vhost.url));
    } catch (error) {
      await database?.dispose();
      await vhost.dispose();
      throw error;
    }
  }

  /**
   * Closes the probe and removes the vhost and the database. Every step runs even when one
   * fails; the first failure is thrown at the end.
   */
  async dispose(): Promise<void> {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(() => this.probe.close());
    await attempt(() => this.vhost.dispose());
    await attempt(() => this.database.dispose());
    if (failures.length) throw failures[0];
  }
}
