import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BrokerAccess } from './broker.js';
import { freePort } from './smtp.js';

const run = promisify(execFile);

/**
 * RabbitMQ nodes a test starts for itself, so that it can stop, kill, pause, alarm or
 * partition them without touching the broker on the default port (which the machine and a
 * user's other applications rely on). Each node has its own name, AMQP, management and
 * distribution ports, data and log folders, and an Erlang cookie and epmd of its own run.
 *
 * Nodes run from the installed `rabbitmq-server` (`root` '/'), or from a root folder holding
 * another installation, entered with chroot (RabbitMQ 4 from Debian trixie, built by
 * `scripts/infra/rabbitmq4-root.sh`). `TEST_RABBITMQ_ROOT` picks the installation of a run.
 *
 * A node left behind by a test process that died (a failed or interrupted run) is killed and
 * its folder removed the next time any test starts a node; a test process that exits kills
 * its own nodes on the way out.
 */

/** Where the nodes' folders live, relative to the installation's root. */
const NODES_DIR = '/var/tmp/commerce-events-broker-nodes';
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const START_TIMEOUT_MS = 90_000;

/** The installation root of this run's test brokers ('/' or a chroot with RabbitMQ 4). */
export function rabbitRoot(): string {
  return process.env.TEST_RABBITMQ_ROOT || '/';
}

export interface BrokerNodeOptions {
  /** Prefix of the node name (letters, digits, dashes). */
  prefix: string;
  /** Installation root (default `rabbitRoot()`). */
  root?: string;
  /** The Erlang cookie and epmd port of a cluster (default: new ones). */
  cookie?: string;
  epmdPort?: number;
  /** Extra lines for rabbitmq.conf. */
  config?: string[];
  /** An advanced.config (Erlang terms) for settings rabbitmq.conf lacks. */
  advanced?: string;
  /**
   * Outlives the process that started it (a CI run's broker): not killed on exit nor swept;
   * `BrokerNode.stopDetached(name)` stops it.
   */
  detached?: boolean;
  /** Fixed AMQP and management ports (default: free ones). */
  amqpPort?: number;
  managementPort?: number;
}

/** One running (or stopped) RabbitMQ node of a test. */
export class BrokerNode {
  private process?: ReturnType<typeof spawn>;
  private exited?: Promise<void>;
  private detached = false;

  private constructor(
    readonly name: string,
    readonly root: string,
    /** The node's folder as the node sees it (inside its root). */
    private readonly dir: string,
    readonly amqpPort: number,
    readonly managementPort: number,
    readonly distPort: number,
    readonly cookie: string,
    readonly epmdPort: number,
  ) {}

  /** Starts a node and resolves once its AMQP and management listeners answer. */
  static async start(options: BrokerNodeOptions): Promise<BrokerNode> {
    const root = options.root ?? rabbitRoot();
    if (!existsSync(join(root, SERVER))) {
      throw new Error(
        `No RabbitMQ at ${join(root, SERVER)}: install rabbitmq-server (bash scripts/infra/ensure-services.sh), or for RabbitMQ 4 set TEST_RABBITMQ_ROOT to the output of bash scripts/infra/rabbitmq4-root.sh.`,
      );
    }
    if (root !== '/') mountProc(root);
    sweepAbandonedNodes(root);
    const id = `${options.prefix}-${randomBytes(3).toString('hex')}`;
    const [freeAmqp, freeManagement, distPort] = (await distinctFreePorts(3)) as [
      number,
      number,
      number,
    ];
    const amqpPort = options.amqpPort ?? freeAmqp;
    const managementPort = options.managementPort ?? freeManagement;
    const node = new BrokerNode(
      `${id}@localhost`,
      root,
      `${NODES_DIR}/${id}`,
      amqpPort,
      managementPort,
      distPort,
      options.cookie ?? randomBytes(16).toString('hex'),
      options.epmdPort ?? (await freePort()),
    );
    node.detached = options.detached ?? false;
    node.prepare(options.config ?? [], options.advanced ?? '[].');
    await node.launch();
    return node;
  }

  /** Stops a node started `detached` (by its name prefix's folder) and removes it. */
  static stopDetached(id: string, root = rabbitRoot()): boolean {
    const dir = join(root, NODES_DIR, id);
    if (!existsSync(dir)) return false;
    const pid = Number(readText(join(dir, 'node.pid')));
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    const epmdPort = Number(readText(join(dir, 'epmd.port')));
    if (epmdPort) stopEpmd(root, epmdPort);
    rmSync(dir, { recursive: true, force: true });
    return true;
  }

  /** The node's folder name (what `stopDetached` takes). */
  get id(): string {
    return this.name.split('@')[0]!;
  }

  /** How tests reach this node (vhosts, the management API). */
  get access(): BrokerAccess {
    return {
      amqpBases: [`amqp://guest:guest@127.0.0.1:${this.amqpPort}`],
      managementUrls: [this.managementUrl],
      credentials: 'guest:guest',
    };
  }

  /** `amqp://guest:guest@127.0.0.1:<port>/<vhost>`. */
  url(vhost = ''): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}/${encodeURIComponent(vhost)}`;
  }

  /** The management API base, `http://127.0.0.1:<port>`. */
  get managementUrl(): string {
    return `http://127.0.0.1:${this.managementPort}`;
  }

  /** The OS process id of the node's Erlang VM, while it runs. */
  get pid(): number | undefined {
    return this.running ? this.process?.pid : undefined;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Runs `rabbitmqctl -n <node> ...args` and returns its output. */
  async ctl(...args: string[]): Promise<string> {
    const [command, argv] = this.command(CTL, ['-n', this.name, ...args]);
    const { stdout } = await run(command, argv, { env: this.env(), timeout: 120_000 });
    return stdout;
  }

  /** Calls this node's management API as guest. */
  async management<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.managementUrl}/api${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      throw new Error(
        `RabbitMQ node ${this.name} management ${method} ${path}: ${response.status} ${await response.text()}`,
      );
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Stops the node gracefully (SIGTERM) and waits for its VM to exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 60_000);
  }

  /** Kills the node's VM at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  /** Freezes the node (SIGSTOP): it holds its sockets and answers nothing. */
  pause(): void {
    if (this.pid) process.kill(this.pid, 'SIGSTOP');
  }

  /** Resumes a paused node (SIGCONT). */
  resume(): void {
    if (this.pid) process.kill(this.pid, 'SIGCONT');
  }

  /** Starts a stopped or killed node again on its data. */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.launch();
  }

  /** Makes this node join the cluster of `seed` (it is reset first). */
  async joinCluster(seed: BrokerNode): Promise<void> {
    await this.ctl('stop_app');
    await this.ctl('reset');
    await this.ctl('join_cluster', seed.name);
    await this.ctl('start_app');
    await this.waitReady();
  }

  /** The last lines of the node's log, for error messages. */
  logTail(lines = 30): string {
    const dir = join(this.root, this.dir, 'log');
    const file = join(dir, `${this.name}.log`);
    const stdout = join(this.root, this.dir, 'stdout.log');
    const read = (path: string) =>
      existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : '';
    return read(file) || read(stdout);
  }

  /** Stops the node and removes its folder. */
  async dispose(): Promise<void> {
    if (this.running) await this.kill();
    rmSync(join(this.root, this.dir), { recursive: true, force: true });
    owned.delete(this);
    stopEpmd(this.root, this.epmdPort);
  }

  private prepare(config: string[], advanced: string): void {
    const hostDir = join(this.root, this.dir);
    mkdirSync(join(hostDir, 'mnesia'), { recursive: true });
    mkdirSync(join(hostDir, 'log'), { recursive: true });
    const cookie = join(hostDir, '.erlang.cookie');
    writeFileSync(cookie, this.cookie);
    chmodSync(cookie, 0o400);
    writeFileSync(
      join(hostDir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${this.amqpPort}`,
        `management.tcp.port = ${this.managementPort}`,
        'management.tcp.ip = 127.0.0.1',
        'loopback_users = none',
        // Figures for the tests' own checks refresh every second, not every five.
        'collect_statistics_interval = 1000',
        ...config,
        '',
      ].join('\n'),
    );
    writeFileSync(join(hostDir, 'enabled_plugins'), '[rabbitmq_management].\n');
    writeFileSync(join(hostDir, 'advanced.config'), `${advanced}\n`);
    writeFileSync(join(hostDir, 'owner'), this.detached ? 'detached' : String(process.pid));
    writeFileSync(join(hostDir, 'epmd.port'), String(this.epmdPort));
  }

  private async launch(): Promise<void> {
    const hostDir = join(this.root, this.dir);
    const out = openSync(join(hostDir, 'stdout.log'), 'a');
    const [command, argv] = this.command(SERVER, []);
    // RUNNING_UNDER_SYSTEMD makes the script exec the Erlang VM: the child's pid is the node's,
    // so SIGTERM stops it gracefully, SIGKILL kills it and SIGSTOP pauses it.
    const child = spawn(command, argv, {
      env: { ...this.env(), RUNNING_UNDER_SYSTEMD: 'true' },
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    child.unref();
    this.process = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    writeFileSync(join(hostDir, 'node.pid'), String(child.pid));
    if (!this.detached) owned.add(this);
    try {
      await this.waitReady();
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'not started';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`RabbitMQ node ${this.name} exited:\n${this.logTail()}`);
      try {
        await this.management('GET', '/overview');
        await tcpOpen(this.amqpPort);
        return;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `RabbitMQ node ${this.name} not ready within ${START_TIMEOUT_MS} ms (${last}):\n${this.logTail()}`,
    );
  }

  private async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const pid = this.pid;
    if (!pid) return;
    if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT'); // a paused node cannot stop
    process.kill(pid, signal);
    const timer = setTimeout(() => this.pid && process.kill(this.pid, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: this.dir,
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      RABBITMQ_NODENAME: this.name,
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: `${this.dir}/mnesia`,
      RABBITMQ_LOG_BASE: `${this.dir}/log`,
      RABBITMQ_CONFIG_FILE: `${this.dir}/rabbitmq.conf`,
      RABBITMQ_ADVANCED_CONFIG_FILE: `${this.dir}/advanced.config`,
      RABBITMQ_ENABLED_PLUGINS_FILE: `${this.dir}/enabled_plugins`,
      RABBITMQ_PID_FILE: `${this.dir}/erlang.pid`,
      ERL_EPMD_PORT: String(this.epmdPort),
    };
  }

  /** The command line of an installation binary: through chroot when the root is not '/'. */
  private command(binary: string, args: string[]): [string, string[]] {
    return this.root === '/' ? [binary, args] : ['chroot', [this.root, binary, ...args]];
  }
}

/** Three (or `size`) nodes of one cluster: one cookie and epmd, quorum queues across them. */
export class BrokerCluster {
  private constructor(readonly nodes: BrokerNode[]) {}

  static async start(
    prefix: string,
    size = 3,
    options: Omit<BrokerNodeOptions, 'prefix' | 'cookie' | 'epmdPort'> = {},
  ): Promise<BrokerCluster> {
    const cookie = randomBytes(16).toString('hex');
    const epmdPort = await freePort();
    const nodes: BrokerNode[] = [];
    try {
      const started = await Promise.allSettled(
        Array.from({ length: size }, (_, i) =>
          BrokerNode.start({ ...options, prefix: `${prefix}${i + 1}`, cookie, epmdPort }),
        ),
      );
      for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      for (const node of nodes.slice(1)) await node.joinCluster(nodes[0]!);
    } catch (error) {
      for (const node of nodes) await node.dispose();
      throw error;
    }
    return new BrokerCluster(nodes);
  }

  /** How tests reach the cluster: every node's AMQP address and management API. */
  get access(): BrokerAccess {
    return {
      amqpBases: this.nodes.flatMap((node) => node.access.amqpBases),
      managementUrls: this.nodes.map((node) => node.managementUrl),
      credentials: 'guest:guest',
    };
  }

  /** A comma-separated AMQP URL list of every node (the services' `AMQP_URL` on a cluster). */
  urls(vhost = ''): string {
    return this.nodes.map((node) => node.url(vhost)).join(',');
  }

  async dispose(): Promise<void> {
    for (const node of this.nodes) await node.dispose();
  }
}

/** Nodes this process started and has not disposed of. */
const owned = new Set<BrokerNode>();
process.once('exit', () => {
  for (const node of owned) {
    if (node.pid) {
      try {
        process.kill(node.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

/** Kills the nodes of test processes that are gone, and removes their folders. */
function sweepAbandonedNodes(root: string): void {
  const base = join(root, NODES_DIR);
  if (!existsSync(base)) return;
  for (const entry of readdirSync(base)) {
    const dir = join(base, entry);
    const ownerText = readText(join(dir, 'owner'));
    if (ownerText === 'detached') continue;
    const owner = Number(ownerText);
    if (owner && alive(owner)) continue;
    const pid = Number(readText(join(dir, 'node.pid')));
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    const epmdPort = Number(readText(join(dir, 'epmd.port')));
    if (epmdPort) stopEpmd(root, epmdPort);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stops the epmd of a test cluster once no node of this process uses its port. */
function stopEpmd(root: string, port: number): void {
  if ([...owned].some((node) => node.epmdPort === port)) return;
  const argv = ['-port', String(port), '-kill'];
  const [command, args] = root === '/' ? ['epmd', argv] : ['chroot', [root, 'epmd', ...argv]];
  spawnSync(command, args, { stdio: 'ignore', timeout: 5_000 });
}

/** Erlang reads /proc (CPU and memory figures): a chroot needs its own mount of it. */
function mountProc(root: string): void {
  const proc = join(root, 'proc');
  if (existsSync(join(proc, 'self'))) return;
  const mounted = spawnSync('mount', ['-t', 'proc', 'proc', proc], { encoding: 'utf8' });
  if (mounted.status !== 0)
    throw new Error(`Cannot mount /proc in ${root} (needs root): ${mounted.stderr.trim()}`);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function tcpOpen(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
