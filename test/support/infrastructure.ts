import {
  type BrokerAccess,
  createTestDatabase,
  DEFAULT_BROKER,
  createTestVhost,
  startSmtpSink,
  type TestDatabase,
  type TestVhost,
  waitFor,
} from '@app/testing';
import { ensureBuilt, SERVICES, type Service } from './build.js';

/** The retry delays of the test systems: short, so a retried message comes back quickly. */
export const TEST_RETRY_DELAYS_MS = [200, 500, 1_000];

/**
 * What the services of one test system run on: a vhost, a database per service and an SMTP
 * sink, all of their own, plus the built services. `dispose` removes them.
 */
export class TestInfrastructure {
  readonly databases = {} as Record<Service, TestDatabase>;
  vhost!: TestVhost;
  smtp!: Awaited<ReturnType<typeof startSmtpSink>>;

  /** `name` prefixes the vhost and the databases; the vhost is on `broker`. */
  static async create(
    name: string,
    broker: BrokerAccess = DEFAULT_BROKER,
  ): Promise<TestInfrastructure> {
    ensureBuilt();
    const infrastructure = new TestInfrastructure();
    try {
      infrastructure.vhost = await createTestVhost(name, broker);
      infrastructure.smtp = await startSmtpSink();
      for (const service of SERVICES) {
        infrastructure.databases[service] = await createTestDatabase(`${name}_${service}`);
      }
    } catch (error) {
      await infrastructure.dispose();
      throw error;
    }
    return infrastructure;
  }

  /** Variables every service of a test system shares: broker, SMTP, short retries. */
  sharedEnv(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      AMQP_URL: this.vhost.url,
      SMTP_URL: `smtp://127.0.0.1:${this.smtp.port}`,
      RETRY_DELAYS: TEST_RETRY_DELAYS_MS.map((ms) => `${ms}ms`).join(','),
      LOG_LEVEL: 'info',
    };
  }

  async dispose(): Promise<void> {
    await this.smtp?.close();
    await this.vhost?.dispose();
    for (const database of Object.values(this.databases)) await database.dispose();
  }
}

/** A test system's view of its infrastructure, once `infrastructure` is set by its boot. */
export abstract class OnTestInfrastructure {
  protected infrastructure?: TestInfrastructure;

  get databases(): Record<Service, TestDatabase> {
    return this.infrastructure!.databases;
  }

  get vhost(): TestVhost {
    return this.infrastructure!.vhost;
  }

  get smtp(): TestInfrastructure['smtp'] {
    return this.infrastructure!.smtp;
  }
}

/** Resolves once the gateway's catalog projection holds the seed products. */
export async function waitForCatalog(gatewayUrl: string): Promise<void> {
  await waitFor('the catalog projection', async () => {
    const products = (await (await fetch(`${gatewayUrl}/products`)).json()) as unknown[];
    return products.length >= 6;
  });
}
