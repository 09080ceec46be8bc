import { definitionsPermissions } from '@app/messaging';
import {
  type BrokerAccess,
  createTestDatabase,
  DEFAULT_BROKER,
  management,
  TcpProxy,
  createTestVhost,
  startSmtpSink,
  type TestDatabase,
  type TestVhost,
  waitFor,
} from '@app/testing';
import { randomBytes } from 'node:crypto';
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
  /** The services reach the SMTP sink through it: a fault can freeze it (a hanging server). */
  smtpProxy!: TcpProxy;
  /** Broker users per service (`<service>-<vhost>`), when made with `brokerUsers`. */
  private readonly brokerUsers = new Map<Service, { name: string; password: string }>();

  /**
   * `name` prefixes the vhost and the databases; the vhost is on `broker`. With
   * `brokerUsers`, each service gets a broker user of its own with the least privilege of
   * deploy/rabbitmq/definitions.json, as in compose.
   */
  static async create(
    name: string,
    broker: BrokerAccess = DEFAULT_BROKER,
    { brokerUsers = false }: { brokerUsers?: boolean } = {},
  ): Promise<TestInfrastructure> {
    ensureBuilt();
    const infrastructure = new TestInfrastructure();
    try {
      infrastructure.vhost = await createTestVhost(name, broker);
      if (brokerUsers) await infrastructure.createBrokerUsers();
      infrastructure.smtp = await startSmtpSink();
      infrastructure.smtpProxy = await TcpProxy.start('127.0.0.1', infrastructure.smtp.port);
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
      SMTP_URL: `smtp://127.0.0.1:${this.smtpProxy.port}`,
      RETRY_DELAYS: TEST_RETRY_DELAYS_MS.map((ms) => `${ms}ms`).join(','),
      LOG_LEVEL: 'info',
    };
  }

  /** The vhost URL(s) with `service`'s own broker user, or guest's without `brokerUsers`. */
  amqpUrlOf(service: Service): string {
    const user = this.brokerUsers.get(service);
    if (!user) return this.vhost.url;
    return this.vhost.url
      .split(',')
      .map((url) => {
        const parsed = new URL(url);
        parsed.username = user.name;
        parsed.password = user.password;
        return parsed.toString();
      })
      .join(',');
  }

  /** Sets `service`'s broker permissions on the vhost (a fault takes one away, then back). */
  async setPermissions(
    service: Service,
    permissions: { configure: string; write: string; read: string },
  ): Promise<void> {
    const user = this.brokerUsers.get(service)!;
    await management(
      'PUT',
      `/permissions/${encodeURIComponent(this.vhost.name)}/${user.name}`,
      permissions,
      this.vhost.broker,
    );
  }

  /** The broker user of `service` (for the management API's connection list). */
  brokerUserOf(service: Service): string | undefined {
    return this.brokerUsers.get(service)?.name;
  }

  private async createBrokerUsers(): Promise<void> {
    const { permissions, topic_permissions } = definitionsPermissions(SERVICES);
    for (const service of SERVICES) {
      const user = {
        name: `${service}-${this.vhost.name}`,
        password: randomBytes(12).toString('hex'),
      };
      await management(
        'PUT',
        `/users/${user.name}`,
        { password: user.password, tags: '' },
        this.vhost.broker,
      );
      this.brokerUsers.set(service, user);
      const { configure, write, read } = permissions.find((p) => p.user === service)!;
      await this.setPermissions(service, { configure, write, read });
      for (const topic of topic_permissions.filter((t) => t.user === service)) {
        await management(
          'PUT',
          `/topic-permissions/${encodeURIComponent(this.vhost.name)}/${user.name}`,
          { exchange: topic.exchange, write: topic.write, read: topic.read },
          this.vhost.broker,
        );
      }
    }
  }

  async dispose(): Promise<void> {
    await this.smtpProxy?.close();
    await this.smtp?.close();
    for (const user of this.brokerUsers.values())
      await management('DELETE', `/users/${user.name}`, undefined, this.vhost.broker).catch(
        () => undefined,
      );
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
