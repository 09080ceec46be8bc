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
import { BrokerConnection } from './connection/broker-connection.js';
import { CrashSuspects } from './consumer/crash-suspects.js';
import { type ConsumerEvents, EventConsumer } from './consumer/event-consumer.js';
import { HandlerDiscovery } from './consumer/handler-discovery.js';
import { type RegisteredHandler } from './consumer/registered-handler.js';
import { TransactionalRunner } from './inbox/transactional-runner.js';
import { MESSAGING_OPTIONS } from './messaging.module-definition.js';
import {
  type MessagingOptions,
  type ResolvedMessagingOptions,
  resolveMessagingOptions,
} from './messaging.options.js';
import { Outbox } from './outbox/outbox.js';
import { OutboxCommitHook } from './outbox/outbox-commit-hook.js';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay } from './outbox/outbox-relay.js';
import { messagingMetrics } from './metrics/messaging-metrics.js';
import { ConfirmedPublisher } from './publisher/confirmed-publisher.js';
import { buildTopology, type Topology } from './topology/topology.js';

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
  /** Consumers and their acks on one connection, publishes on another: an alarm blocks only the latter. */
  private consumeConnection?: BrokerConnection;
  private connection?: BrokerConnection;
  private publisher?: ConfirmedPublisher;
  private consumer?: EventConsumer;
  private relay?: OutboxRelay;
  private metrics?: ReturnType<typeof messagingMetrics>;
  /** Observers added with `observe`, told of each outcome after the metrics. */
  private readonly observers = new Set<ConsumerEvents>();
  private readonly outcomes: Required<ConsumerEvents> = {
    onHandled: (queue, type, ms) => {
      this.metrics?.consumer.onHandled(queue, type, ms);
      for (const observer of this.observers) observer.onHandled?.(queue, type, ms);
    },
    onDuplicate: (queue, type) => {
      this.metrics?.consumer.onDuplicate(queue, type);
      for (const observer of this.observers) observer.onDuplicate?.(queue, type);
    },
    onRetried: (queue, type, level) => {
      this.metrics?.consumer.onRetried(queue, type, level);
      for (const observer of this.observers) observer.onRetried?.(queue, type, level);
    },
    onDeadLettered: (queue, type, exceptionType) => {
      this.metrics?.consumer.onDeadLettered(queue, type, exceptionType);
      for (const observer of this.observers) observer.onDeadLettered?.(queue, type, exceptionType);
    },
  };

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
    const name = `${this.options.service}@${process.pid}`;
    const connection = new BrokerConnection(this.options.url, `${name} publish`);
    const consumeConnection = new BrokerConnection(this.options.url, `${name} consume`);
    this.connection = connection;
    this.consumeConnection = consumeConnection;
    this.publisher = new ConfirmedPublisher(
      connection,
      this.topology,
      this.options.publishTimeoutMs,
    );
    const runner = new TransactionalRunner(
      this.dataSource,
      this.outbox,
      this.options.handlerTimeoutMs,
    );
    this.consumer = new EventConsumer(
      consumeConnection,
      this.publisher,
      this.topology,
      this.registry,
      byType,
      runner,
      new CrashSuspects(this.dataSource),
      this.options,
      this.outcomes,
    );
    const publisher = this.publisher;
    const relay = new OutboxRelay(
      this.dataSource,
      this.publisher,
      () => publisher.canPublish(),
      DEFAULT_OUTBOX_RELAY_OPTIONS,
      (type) => this.metrics?.onPublished(type),
    );
    this.metrics = messagingMetrics({
      backlog: () => relay.backlog(),
      connected: () => this.isBrokerReady(),
      blocked: () => connection.blockedReason() !== undefined,
      leader: () => relay.isLeader(),
      inFlight: () => this.consumer?.inFlightCount() ?? 0,
    });
    this.relay = relay;
    this.dataSource.subscribers.push(new OutboxCommitHook(() => relay.poke()));
    connection.start();
    consumeConnection.start();
    const publisherChannel = this.publisher.start();
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
    const connections = [this.connection!, this.consumeConnection!];
    this.consumer?.start();
    if (this.consumer && this.connection?.isConnected()) {
      await Promise.race([
        this.consumer.whenConsuming(),
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
    this.relay?.start();
  }

  /**
   * Stops taking deliveries, lets the handlers running finish, stops the relay, waits for the
   * confirms still due (each bounded by `shutdownTimeoutMs`), then closes the connections;
   * logs what it found running and what it drained.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const handlers = this.consumer?.inFlightCount() ?? 0;
    this.logger.log(
      `Stopping messaging: no new deliveries; ${handlers} handler(s) running, ` +
        `${this.publisher?.inFlightCount() ?? 0} publish(es) awaiting a confirm`,
    );
    await this.consumer?.stop();
    const handlersLeft = this.consumer?.inFlightCount() ?? 0;
    await this.relay?.stop();
    const publishes = this.publisher?.inFlightCount() ?? 0;
    const publishesLeft = (await this.publisher?.drain(this.options.shutdownTimeoutMs)) ?? 0;
    await this.publisher?.close();
    await this.connection?.close();
    await this.consumeConnection?.close();
    this.metrics?.dispose();
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
    const connections = [this.connection, this.consumeConnection];
    return (
      connections.every((c) => c?.isConnected() && !c.fatalError()) &&
      (this.consumer?.isConsuming() ?? true)
    );
  }

  /** What readiness shows beside up or down: a blocked publisher, queues not consumed. */
  brokerDetails(): { blocked: string | false; failingQueues: string[] } {
    return {
      blocked: this.connection?.blockedReason() ?? false,
      failingQueues: this.consumer?.failingQueues() ?? [],
    };
  }

  /** True while this replica holds the outbox relay's lock and publishes the outbox. */
  isOutboxLeader(): boolean {
    return this.relay?.isLeader() ?? false;
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
