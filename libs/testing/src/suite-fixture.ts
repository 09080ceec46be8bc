import { EVENT_FLOWS } from '@app/events';
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

  /**
   * Creates the vhost and database (named after `name`) and opens the probe. The producers'
   * exchanges (`users.events`, `orders.events`, `inventory.events`) are declared as their
   * services would at boot, since a consumer only checks that they exist.
   */
  static async create(name: string): Promise<SuiteFixture> {
    const vhost = await createTestVhost(name);
    let database: TestDatabase | undefined;
    try {
      database = await createTestDatabase(name);
      const probe = await BrokerProbe.open(vhost.url);
      const producers = new Set(Object.values(EVENT_FLOWS).map((flow) => flow.producer));
      for (const producer of producers)
        await probe.channel.assertExchange(`${producer}.events`, 'topic', { durable: true });
      return new SuiteFixture(vhost, database, probe);
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
