import { Logger } from '@nestjs/common';
import amqp, {
  type AmqpConnectionManager,
  type ChannelWrapper,
  type CreateChannelOpts,
} from 'amqp-connection-manager';
import { MAX_RECONNECT_DELAY_MS } from '../messaging.options.js';

const FIRST_RECONNECT_DELAY_MS = 250;

/**
 * One AMQP connection per service with automatic reconnection: exponential back-off from
 * 250 ms, capped at 5 s, reset on success. Channels created here re-run their setup (topology,
 * consumers) on every reconnect. A fatal error (a topology mismatch) is remembered and reported.
 */
export class BrokerConnection {
  private readonly logger = new Logger(BrokerConnection.name);
  private manager?: AmqpConnectionManager;
  private fatal?: Error;
  private readonly fatalListeners = new Set<(error: Error) => void>();

  constructor(
    private readonly url: string,
    private readonly name: string,
  ) {}

  /** Starts connecting in the background; returns at once. */
  start(): void {
    if (this.manager) return;
    const manager = amqp.connect([this.url], {
      heartbeatIntervalInSeconds: 5,
      reconnectTimeInSeconds: FIRST_RECONNECT_DELAY_MS / 1000,
      // noDelay: without it Nagle's algorithm holds small frames (acks, confirms, 1 KiB
      // events) back until the peer's delayed ACK: ~20 ms p50 and ~44 ms p99 per hop, measured.
      connectionOptions: { noDelay: true, clientProperties: { connection_name: this.name } },
    });
    manager.on('connect', () => {
      manager.reconnectTimeInSeconds = FIRST_RECONNECT_DELAY_MS / 1000;
      this.logger.log(`Connected to RabbitMQ as "${this.name}"`);
    });
    manager.on('disconnect', ({ err }) => {
      this.logger.warn(`Disconnected from RabbitMQ: ${err?.message ?? 'closed'}; reconnecting`);
    });
    manager.on('connectFailed', ({ err }) => {
      const next = Math.min(manager.reconnectTimeInSeconds * 2, MAX_RECONNECT_DELAY_MS / 1000);
      manager.reconnectTimeInSeconds = next;
      this.logger.warn(
        `Cannot connect to RabbitMQ (${err.message}): ${connectFailureHint(err.message, this.url)}; retrying in ${next}s`,
      );
    });
    manager.on('blocked', ({ reason }) =>
      this.logger.warn(`RabbitMQ blocked publishing: ${reason}`),
    );
    this.manager = manager;
  }

  /** True while an AMQP connection is open. */
  isConnected(): boolean {
    return this.manager?.isConnected() ?? false;
  }

  /** The error that stopped this connection for good, if any. */
  fatalError(): Error | undefined {
    return this.fatal;
  }

  /** Records an unrecoverable error (for example a topology mismatch) and tells the listeners. */
  reportFatal(error: Error): void {
    if (this.fatal) return;
    this.fatal = error;
    this.logger.error(error.message);
    for (const listener of this.fatalListeners) listener(error);
  }

  /** Called once when a fatal error is reported. */
  onFatal(listener: (error: Error) => void): () => void {
    this.fatalListeners.add(listener);
    return () => this.fatalListeners.delete(listener);
  }

  /** Creates a channel whose setup re-runs on every reconnect. */
  createChannel(options: CreateChannelOpts): ChannelWrapper {
    if (!this.manager) throw new Error('BrokerConnection.start() must run before createChannel().');
    return this.manager.createChannel(options);
  }

  /** Closes every channel and the connection. */
  async close(): Promise<void> {
    const manager = this.manager;
    this.manager = undefined;
    await manager?.close();
  }
}

/**
 * What a failed connection attempt means and what to check, from amqplib's message: a refused
 * login, a vhost the user cannot open, or nothing answering at the address.
 */
export function connectFailureHint(message: string, url: string): string {
  let host = 'AMQP_URL';
  let user = 'guest';
  let vhost = '/';
  try {
    const target = new URL(url);
    host = `${target.hostname}:${target.port || (target.protocol === 'amqps:' ? 5671 : 5672)}`;
    user = decodeURIComponent(target.username) || 'guest';
    vhost = decodeURIComponent(target.pathname.slice(1)) || '/';
  } catch {
    // an unparsable URL is reported by the configuration check
  }
  if (/ACCESS.REFUSED/.test(message))
    return `RabbitMQ at ${host} refused the login of user "${user}": check the user and password in AMQP_URL`;
  if (/NOT.ALLOWED|Expected ConnectionOpenOk; got <ConnectionClose/.test(message))
    return `RabbitMQ at ${host} refused to open vhost "${vhost}" for user "${user}": check that the vhost in the path of AMQP_URL exists and that the user has permissions on it`;
  return `check that RabbitMQ runs and that the host and port of AMQP_URL (${host}) reach it`;
}
