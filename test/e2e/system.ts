import { freePort, waitFor } from '@app/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, SERVICES, type Service } from '../support/build.js';
import {
  OnTestInfrastructure,
  TestInfrastructure,
  waitForCatalog,
} from '../support/infrastructure.js';

export { SERVICES, type Service };
export { call } from '../support/http.js';

/** The four services as separate processes, started by the same launcher as `npm start`. */
export class System extends OnTestInfrastructure {
  readonly ports = {} as Record<Service, number>;
  /** The gateway's operations port (`/metrics`). */
  opsPort = 0;
  private launcher?: ChildProcess;
  readonly logs: string[] = [];

  /** Boots everything; `env` adds or overrides variables of every service. */
  static async start(env: Record<string, string> = {}): Promise<System> {
    const system = new System();
    await system.boot(env);
    return system;
  }

  url(service: Service, path: string): string {
    return `http://127.0.0.1:${this.ports[service]}${path}`;
  }

  private async boot(env: Record<string, string>): Promise<void> {
    this.infrastructure = await TestInfrastructure.create('e2e');
    const serviceEnv: Record<string, string> = {};
    for (const service of SERVICES) {
      this.ports[service] = await freePort();
      serviceEnv[`${service.toUpperCase()}_DATABASE_URL`] = this.databases[service].url;
      serviceEnv[`${service.toUpperCase()}_PORT`] = String(this.ports[service]);
    }
    this.launcher = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      env: {
        ...process.env,
        ...this.infrastructure.sharedEnv(),
        USERS_URL: `http://127.0.0.1:${this.ports.users}`,
        ORDERS_OPS_PORT: String((this.opsPort = await freePort())),
        RATE_LIMIT_PER_MINUTE: '1000',
        ORDER_RATE_LIMIT_PER_MINUTE: '100000',
        MAX_OPEN_ORDERS: '100000',
        ...serviceEnv,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.launcher.stdout!, this.launcher.stderr!]) {
      stream.on('data', (chunk: Buffer) =>
        this.logs.push(...chunk.toString().split('\n').filter(Boolean)),
      );
    }
    for (const service of SERVICES) {
      await waitFor(
        `${service} to be ready`,
        async () => (await fetch(this.url(service, '/health/ready'))).ok,
        {
          timeoutMs: 60_000,
          intervalMs: 200,
        },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${this.logs.slice(-30).join('\n')}`);
      });
    }
    await waitForCatalog(this.url('orders', ''));
  }

  /** Stops the services gracefully and removes the vhost, databases and SMTP sink. */
  async stop(): Promise<void> {
    if (this.launcher && this.launcher.exitCode === null) {
      const exited = new Promise((resolve) => this.launcher!.once('exit', resolve));
      this.launcher.kill('SIGTERM');
      await exited;
    }
    await this.infrastructure?.dispose();
  }
}
