import { type BrokerAccess, brokerAddress, freePort, TcpProxy, waitFor } from '@app/testing';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { entryOf, root, SERVICES, SERVICE_NODE_FLAGS, type Service } from './build.js';
import { OnTestInfrastructure, TestInfrastructure, waitForCatalog } from './infrastructure.js';

export interface ClusterOptions {
  /** Prefix of the vhost and databases. */
  name: string;
  /** Replicas per service (default 1 each). */
  replicas?: Partial<Record<Service, number>>;
  /** Variables added to, or overriding, every service's environment. */
  env?: Record<string, string>;
  /** Directory for one log file per process (default var/<name>/<timestamp>). */
  logDir?: string;
  /** The broker the vhost is made on (default: the machine's). */
  broker?: BrokerAccess;
  /** Each service connects as a broker user of its own, with the definitions' permissions. */
  brokerUsers?: boolean;
  /** Each replica of these services reaches the broker through a TCP proxy of its own. */
  brokerProxies?: Service[];
}

/** One OS process of one replica of a service. */
export class ServiceProcess {
  child?: ChildProcess;
  /** Start count: 1 after the first start, +1 per restart. */
  starts = 0;
  private log?: WriteStream;

  constructor(
    readonly service: Service,
    readonly replica: number,
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    /** Its own way to the broker, when the cluster gives it one (`brokerProxies`). */
    readonly brokerProxy?: TcpProxy,
  ) {}

  get name(): string {
    return `${this.service}-${this.replica}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Its Prometheus endpoint: the operations port for the gateway, else its own port. */
  metricsUrl(): string {
    return `http://127.0.0.1:${this.env.OPS_PORT ?? this.port}/metrics`;
  }

  /** Spawns the built service and waits until `/health/ready` answers 200. */
  async start(readyTimeoutMs = 60_000): Promise<void> {
    this.starts += 1;
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    this.log.write(`--- start #${this.starts} at ${new Date().toISOString()}\n`);
    // SERVICE_NODE_ARGS adds node flags to every service (for example a --cpu-prof run).
    const extra = (process.env.SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...SERVICE_NODE_FLAGS, ...extra, entryOf(this.service)],
      {
        cwd: root,
        env: { ...process.env, ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    this.child = child;
    await waitFor(
      `${this.name} to be ready`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited; see ${this.logFile}`);
        return (await fetch(this.url('/health/ready'))).ok;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 100 },
    );
  }

  /** Sends `signal` and resolves when the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  async stop(): Promise<void> {
    const stopped = this.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 20_000);
    await stopped;
    clearTimeout(timer);
    this.log?.end();
    this.log = undefined;
  }
}

/**
 * The four services as separate OS processes, each replica with its own port, on a vhost,
 * databases and SMTP sink of their own. Unlike the `npm start` launcher, one process can be
 * killed and restarted while the others run on.
 */
export class Cluster extends OnTestInfrastructure {
  readonly processes: ServiceProcess[] = [];
  private readonly proxies: TcpProxy[] = [];
  /** The first gateway's operations port (`/metrics`). */
  opsPort = 0;
  logDir = '';

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster();
    try {
      await cluster.boot(options);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The replicas of a service. */
  of(service: Service): ServiceProcess[] {
    return this.processes.filter((p) => p.service === service);
  }

  /** A URL on the first replica of a service. */
  url(service: Service, path: string): string {
    return this.of(service)[0]!.url(path);
  }

  private async boot(options: ClusterOptions): Promise<void> {
    this.logDir =
      options.logDir ??
      join(root, 'var', options.name, new Date().toISOString().replace(/[:.]/g, '-'));
    mkdirSync(this.logDir, { recursive: true });
    this.infrastructure = await TestInfrastructure.create(options.name, options.broker, {
      brokerUsers: options.brokerUsers ?? false,
    });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const shared: Record<string, string> = {
      ...this.infrastructure.sharedEnv(),
      JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      RATE_LIMIT_PER_MINUTE: '1000000',
      ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
      MAX_OPEN_ORDERS: '1000000',
      ...options.env,
    };
    const ports = new Map<Service, number[]>();
    for (const service of SERVICES) {
      const count = options.replicas?.[service] ?? 1;
      ports.set(service, await Promise.all(Array.from({ length: count }, () => freePort())));
    }
    shared.USERS_URL = `http://127.0.0.1:${ports.get('users')![0]}`;
    shared.INVENTORY_URL = `http://127.0.0.1:${ports.get('inventory')![0]}`;
    const opsPorts = await Promise.all(ports.get('orders')!.map(() => freePort()));
    this.opsPort = opsPorts[0]!;
    for (const service of SERVICES) {
      for (const [index, port] of ports.get(service)!.entries()) {
        const replica = index + 1;
        let amqpUrl = this.infrastructure.amqpUrlOf(service);
        let proxy: TcpProxy | undefined;
        if (options.brokerProxies?.includes(service)) {
          const { host, port: brokerPort } = brokerAddress(this.vhost.broker);
          proxy = await TcpProxy.start(host, brokerPort);
          this.proxies.push(proxy);
          amqpUrl = proxy.rewrite(amqpUrl);
        }
        const env: Record<string, string> = {
          ...shared,
          AMQP_URL: amqpUrl,
          DATABASE_URL: this.databases[service].url,
          PORT: String(port),
          ...(service === 'orders' ? { OPS_PORT: String(opsPorts[index]) } : {}),
        };
        const name = `${service}-${replica}`;
        this.processes.push(
          new ServiceProcess(service, replica, port, env, join(this.logDir, `${name}.log`), proxy),
        );
      }
    }
    // Users first (the gateway needs it), then the rest in parallel.
    await Promise.all(this.of('users').map((p) => p.start()));
    await Promise.all(this.processes.filter((p) => p.service !== 'users').map((p) => p.start()));
    await waitForCatalog(this.url('orders', ''));
  }

  /** Stops every process gracefully and removes the vhost, databases and SMTP sink. */
  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop()));
    for (const proxy of this.proxies) await proxy.close();
    await this.infrastructure?.dispose();
  }

  /** What the cluster runs on: the vhost, databases, SMTP sink and broker users. */
  get infra(): TestInfrastructure {
    return this.infrastructure!;
  }
}
