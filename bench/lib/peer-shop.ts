// The system-level peer of the end-to-end benchmark: bench/peers/shop, the same order flow
// built the way the popular NestJS examples build it (@nestjs/microservices RMQ `emit`, TypeORM
// entities saved beside the publish; no outbox, inbox or event store), started as four
// processes on a vhost, databases and SMTP sink of their own. A benchmark peer only.
import {
  createTestDatabase,
  createTestVhost,
  freePort,
  startSmtpSink,
  type TestDatabase,
  type TestVhost,
} from '@app/testing';
import { execFileSync, type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './report.js';

export const PEERS = join(root, 'bench', 'peers');
const SERVICES = ['users', 'inventory', 'email', 'orders'] as const;
type PeerService = (typeof SERVICES)[number];
const ENTRY: Record<PeerService, string> = {
  users: 'users.mjs',
  inventory: 'inventory.mjs',
  email: 'email.mjs',
  orders: 'gateway.mjs',
};

/** Installs bench/peers' own dependencies (NestJS 11) when missing or older than its lock. */
export function ensurePeersInstalled(): void {
  const installed = join(PEERS, 'node_modules', '.package-lock.json');
  if (
    existsSync(installed) &&
    statSync(installed).mtimeMs >= statSync(join(PEERS, 'package-lock.json')).mtimeMs
  )
    return;
  console.log('[bench] installing the peers in bench/peers (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEERS, stdio: 'inherit' });
}

export class PeerShop {
  readonly processes: { service: PeerService; pid?: number; child: ChildProcess }[] = [];
  readonly databases = {} as Record<PeerService, TestDatabase>;
  vhost!: TestVhost;
  port = 0;
  private smtp?: Awaited<ReturnType<typeof startSmtpSink>>;

  /** `stock` units of every SKU; `env` is added to every process's environment. */
  static async start(
    name: string,
    { stock = 10_000_000, env = {} }: { stock?: number; env?: Record<string, string> } = {},
  ): Promise<PeerShop> {
    ensurePeersInstalled();
    const shop = new PeerShop();
    try {
      shop.vhost = await createTestVhost(name);
      shop.smtp = await startSmtpSink();
      for (const service of SERVICES)
        shop.databases[service] = await createTestDatabase(`${name}_${service}`);
      shop.port = await freePort();
      const logDir = join(root, 'var', name, new Date().toISOString().replace(/[:.]/g, '-'));
      mkdirSync(logDir, { recursive: true });
      const extra = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
      // The queues are asserted by their consumers: start them before the gateway emits.
      for (const service of SERVICES) {
        const child = spawn(process.execPath, [...extra, join('shop', ENTRY[service])], {
          cwd: PEERS,
          env: {
            ...process.env,
            ...env,
            AMQP_URL: shop.vhost.firstUrl,
            DATABASE_URL: shop.databases[service].url,
            SMTP_URL: `smtp://127.0.0.1:${shop.smtp.port}`,
            PORT: String(shop.port),
            STOCK: String(stock),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const log = createWriteStream(join(logDir, `${service}.log`));
        child.stderr.pipe(log);
        shop.processes.push({ service, pid: child.pid, child });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`peer ${service} not ready in 60 s: see ${logDir}`)),
            60_000,
          );
          child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`peer ${service} exited with ${code}: see ${logDir}`));
          });
          child.stdout.on('data', (chunk: Buffer) => {
            log.write(chunk);
            if (chunk.toString().includes('"ready":true')) {
              clearTimeout(timer);
              resolve();
            }
          });
        });
      }
    } catch (error) {
      await shop.stop();
      throw error;
    }
    return shop;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    for (const { child } of [...this.processes].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await this.smtp?.close();
    await this.vhost?.dispose();
    for (const database of Object.values(this.databases)) await database.dispose();
  }
}
