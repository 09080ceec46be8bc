import { pause } from '@app/platform';
import { EventRegistry, type EventType } from '@app/events';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type ConsumerEvents, fanOut } from './consumer/event-consumer.js';
import { HandlerDiscovery } from './consumer/handler-discovery.js';
import { type RegisteredHandler } from './consumer/registered-handler.js';
import { MESSAGING_OPTIONS } from './messaging.module-definition.js';
import {
  type MessagingOptions,
  type ResolvedMessagingOptions,
  resolveMessagingOptions,
} from './messaging.options.js';
import { Outbox } from './outbox/outbox.js';
import { buildTopology, type Topology } from './topology/topology.js';
import { type Transport, createTransport } from './transport.js';

/**
 * Wires the transport for one service at boot: discovers the handlers, derives the topology,
 * connects (waiting `connectWaitMs` at most: a service boots not ready while the broker is
 * away), starts consumers and the outbox relay; on shutdown stops them in order.
 */
@Injectable()
export class MessagingService
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(MessagingService.name);
  readonly options: ResolvedMessagingOptions;
  readonly registry: EventRegistry;
  readonly outbox: Outbox;
  private topologyData?: Topology;
  /** Built when the module initialises. */
  private transport?: Transport;
  /** Observers added with `observe`, told of each outcome after the metrics. */
  private readonly observers = new Set<ConsumerEvents>();

  constructor(
    @Inject(MESSAGING_OPTIONS) options: MessagingOptions,
    @Inject(HandlerDiscovery) private readonly discovery: HandlerDiscovery,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {
    this.options = resolveMessagingOptions(options);
    this.registry = new EventRegistry({ defaultCurrency: this.options.defaultCurrency });
    this.outbox = new Outbox(this.options.service, this.registry);
  }

  /** The broker topology this service declares. */
  get topology(): Topology {
    if (!this.topologyData) throw new Error('The topology is built when the module initialises.');
    return this.topologyData;
  }

  async onModuleInit(): Promise<void> {
    const handlers = this.discovery.discover(this.options.service);
    const byType = groupByType(handlers);
    this.topologyData = buildTopology(this.options, [...byType.keys()]);
    const transport = createTransport({
      options: this.options,
      topology: this.topology,
      registry: this.registry,
      outbox: this.outbox,
      dataSource: this.dataSource,
      handlers: byType,
      outcomes: fanOut(this.observers),
      isReady: () => this.isBrokerReady(),
    });
    this.transport = transport;
    const { connection, consumeConnection } = transport;
    connection.start();
    consumeConnection.start();
    const publisherChannel = transport.publisher.start();
    const fatalReported = new Promise<'fatal'>((resolve) => {
      connection.onFatal(() => resolve('fatal'));
      consumeConnection.onFatal(() => resolve('fatal'));
    });
    const outcome = await Promise.race([
      publisherChannel.whenOpen().then(() => 'connected' as const),
      fatalReported,
      pause(this.options.connectWaitMs).then(() => 'timeout' as const),
    ]);
    const fatal = connection.fatalError() ?? consumeConnection.fatalError();
    if (outcome === 'fatal' && fatal) {
      await connection.close();
      await consumeConnection.close();
      throw fatal;
    }
    if (outcome === 'timeout') {
      this.logger.warn(
        `RabbitMQ not reachable within ${this.options.connectWaitMs} ms; starting not ready, reconnecting in the background`,
      );
    }
    this.logger.log(
      `Handlers: ${handlers.map((h) => `${h.type} -> ${h.name}`).join(', ') || 'none'}; queues: ${this.topology.subscriptions.map((s) => s.queue).join(', ') || 'none'}`,
    );
  }

  /**
   * Starts the consumers and waits (up to `connectWaitMs`) until each has declared its queues
   * and consumes, so that a service that reports ready has its queues bound; then the relay.
   */
  async onApplicationBootstrap(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const connections = [transport.connection, transport.consumeConnection];
    transport.consumer.start();
    if (transport.connection.isConnected()) {
      await Promise.race([
        transport.consumer.whenConsuming(),
        pause(this.options.connectWaitMs),
        new Promise<void>((resolve) => connections.forEach((c) => c.onFatal(() => resolve()))),
      ]);
    }
    // A fatal error at boot (a queue that exists with other arguments) fails the boot itself.
    const fatal = connections.map((c) => c.fatalError()).find(Boolean);
    if (fatal) {
      await this.beforeApplicationShutdown();
      throw fatal;
    }
    // Later (on a reconnect) it stops the process: retrying cannot mend it.
    const stop = (error: Error) => {
      this.logger.error(`Stopping: ${error.message}`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    };
    for (const connection of connections) connection.onFatal(stop);
    transport.relay.start();
  }

  /**
   * Stops taking deliveries, lets the handlers running finish, stops the relay, waits for the
   * confirms still due (each bounded by `shutdownTimeoutMs`), then closes the connections;
   * logs what it found running and what it drained.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    const { consumer, publisher } = transport;
    const handlers = consumer.inFlightCount();
    this.logger.log(
      `Stopping messaging: no new deliveries; ${handlers} handler(s) running, ` +
        `${publisher.inFlightCount()} publish(es) awaiting a confirm`,
    );
    await consumer.stop();
    const handlersLeft = consumer.inFlightCount();
    await transport.relay.stop();
    const publishes = publisher.inFlightCount();
    const publishesLeft = await publisher.drain(this.options.shutdownTimeoutMs);
    await publisher.close();
    await transport.connection.close();
    await transport.consumeConnection.close();
    transport.metrics.dispose();
    this.logger.log(
      `Messaging stopped: ${handlers - handlersLeft} handler(s) finished` +
        (handlersLeft ? ` and ${handlersLeft} left to the broker to redeliver` : '') +
        `, ${publishes - publishesLeft} publish(es) confirmed` +
        (publishesLeft
          ? ` and ${publishesLeft} unconfirmed (their outbox rows stay pending)`
          : '') +
        ', connections closed',
    );
  }

  /** Ready when both connections are up, every queue is consumed and no fatal error happened. */
  isBrokerReady(): boolean {
    const connections = [this.transport?.connection, this.transport?.consumeConnection];
    return (
      connections.every((c) => c?.isConnected() && !c.fatalError()) &&
      (this.transport?.consumer.isConsuming() ?? true)
    );
  }

  /** What readiness shows beside up or down: a blocked publisher, queues not consumed. */
  brokerDetails(): { blocked: string | false; failingQueues: string[] } {
    return {
      blocked: this.transport?.connection.blockedReason() ?? false,
      failingQueues: this.transport?.consumer.failingQueues() ?? [],
    };
  }

  /** True while this replica holds the outbox relay's lock and publishes the outbox. */
  isOutboxLeader(): boolean {
    return this.transport?.relay.isLeader() ?? false;
  }

  /**
   * Tells `observer` of every outcome of this service's consume pipeline (handled, skipped as
   * a duplicate, retried, dead-lettered), as the metrics see them; returns the unsubscribe.
   */
  observe(observer: ConsumerEvents): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }
}

function groupByType(handlers: RegisteredHandler[]): Map<EventType, RegisteredHandler[]> {
  const map = new Map<EventType, RegisteredHandler[]>();
  for (const handler of handlers)
    map.set(handler.type, [...(map.get(handler.type) ?? []), handler]);
  return map;
}
