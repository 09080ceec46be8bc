import net from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 that a test can cut (close every connection and refuse new
 * ones), freeze (accept, hold every connection open and pass nothing: a server that hangs)
 * and restore, to take one service off the broker, database or SMTP server without stopping
 * the shared server.
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private cutOff = false;
  private frozen = false;
  /** Connections accepted so far, with when they opened and closed (ms since the epoch). */
  readonly connections: { openedAt: number; closedAt?: number }[] = [];

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts forwarding from an ephemeral local port to `host:port`. */
  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen(0);
    return proxy;
  }

  /** The local port clients connect to. */
  port = 0;

  /** Rewrites an URL so it goes through this proxy. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Holds every connection, open and new, without passing a byte, until `restore`. */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
    }
  }

  /** Accepts and forwards connections again (after `cut` or `freeze`). */
  restore(): void {
    this.cutOff = false;
    if (!this.frozen) return;
    this.frozen = false;
    for (const [client, upstream] of this.pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  private listen(port: number): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.cutOff) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      const record: { openedAt: number; closedAt?: number } = { openedAt: Date.now() };
      this.connections.push(record);
      this.sockets.add(client);
      this.sockets.add(upstream);
      this.pairs.add(pair);
      const drop = () => {
        record.closedAt ??= Date.now();
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      if (!this.frozen) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    });
    return new Promise((resolve) => {
      this.server!.listen(port, '127.0.0.1', () => {
        this.port = (this.server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }
}
