import { freePort, type TestVhost, waitFor } from '@app/testing';
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

  /**
   * Boots everything; `env` adds or overrides variables of every service. `viaNpm` runs
   * `npm start` as a user does (npm, then the launcher) instead of the launcher alone.
   */
  static async start(
    env: Record<string, string> = {},
    options: {
      viaNpm?: boolean;
      /** Runs on the new vhost before any service starts (to capture their first events). */
      beforeServices?: (vhost: TestVhost) => Promise<void>;
    } = {},
  ): Promise<System> {
    const system = new System();
    try {
      await system.boot(env, options);
    } catch (error) {
      // A system that did not come up leaves nothing running: no launcher, no vhost or
      // databases (a failed boot once left four services and a broker node behind, and Jest
      // hanging at its end).
      await system.stop().catch(() => undefined);
      throw error;
    }
    return system;
  }

  /** The process the system was started as: `npm start`, or the launcher itself. */
  get pid(): number {
    return this.launcher!.pid!;
  }

  /** Resolves with how the started process ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const launcher = this.launcher!;
    if (launcher.exitCode !== null || launcher.signalCode !== null)
      return Promise.resolve({ code: launcher.exitCode, signal: launcher.signalCode });
    return new Promise((resolve) =>
      launcher.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  url(service: Service, path: string): string {
    return `http://127.0.0.1:${this.ports[service]}${path}`;
  }

  private async boot(
    env: Record<string, string>,
    { viaNpm = false, beforeServices }: Parameters<typeof System.start>[1] & object,
  ): Promise<void> {
    this.infrastructure = await TestInfrastructure.create('e2e');
    await beforeServices?.(this.infrastructure.vhost);
    const serviceEnv: Record<string, string> = {};
    for (const service of SERVICES) {
      this.ports[service] = await freePort();
      serviceEnv[`${service.toUpperCase()}_DATABASE_URL`] = this.databases[service].url;
      serviceEnv[`${service.toUpperCase()}_PORT`] = String(this.ports[service]);
    }
    // No USERS_URL: the launcher tells the gateway where it started users (USERS_PORT).
    const [command, args] = viaNpm
      ? ['npm', ['start', '--silent']]
      : [process.execPath, [join(root, 'scripts', 'start.mjs')]];
    this.launcher = spawn(command, args, {
      cwd: root,
      env: {
        ...process.env,
        ...this.infrastructure.sharedEnv(),
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
    if (this.launcher && this.launcher.exitCode === null && this.launcher.signalCode === null) {
      const exited = new Promise((resolve) => this.launcher!.once('exit', resolve));
      this.launcher.kill('SIGTERM');
      await exited;
    }
    await this.infrastructure?.dispose();
  }
}
