import { type EventRegistry } from '@app/events';
import { type DataSource } from 'typeorm';
import { BrokerConnection } from './connection/broker-connection.js';
import { CrashSuspects } from './consumer/crash-suspects.js';
import { type ConsumerEvents, EventConsumer, fanOut } from './consumer/event-consumer.js';
import { type RegisteredHandler } from './consumer/registered-handler.js';
import { TransactionalRunner } from './inbox/transactional-runner.js';
import { type ResolvedMessagingOptions } from './messaging.options.js';
import { messagingMetrics } from './metrics/messaging-metrics.js';
import { type Outbox } from './outbox/outbox.js';
import { OutboxCommitHook } from './outbox/outbox-commit-hook.js';
import { DEFAULT_OUTBOX_RELAY_OPTIONS, OutboxRelay } from './outbox/outbox-relay.js';
import { ConfirmedPublisher } from './publisher/confirmed-publisher.js';
import { type Topology } from './topology/topology.js';

/** One service's transport, built and connected together by `createTransport`. */
export interface Transport {
  /** Publishes (the relay's and the consumer's retry copies) and their confirms. */
  connection: BrokerConnection;
  /** Consumers and their acks: a blocked publish connection (an alarm) does not stop them. */
  consumeConnection: BrokerConnection;
  publisher: ConfirmedPublisher;
  consumer: EventConsumer;
  relay: OutboxRelay;
  metrics: ReturnType<typeof messagingMetrics>;
}

export interface TransportParts {
  options: ResolvedMessagingOptions;
  topology: Topology;
  registry: EventRegistry;
  outbox: Outbox;
  dataSource: DataSource;
  handlers: ReadonlyMap<string, readonly RegisteredHandler[]>;
  /** Told of each consume outcome after the metrics. */
  outcomes: ConsumerEvents;
  /** Readiness as the service reports it (the `connected` gauge). */
  isReady: () => boolean;
}

/**
 * Builds the collaborators of one service's transport, each with one job, and wires them to
 * each other: two connections, the confirmed publisher, the consumer with its transactional
 * runner and crash suspects, the outbox relay (poked by a commit hook on the data source) and
 * the metrics that read them. Nothing is started: `MessagingService` starts and stops them in
 * order.
 */
export function createTransport(parts: TransportParts): Transport {
  const { options, topology, dataSource } = parts;
  const name = `${options.service}@${process.pid}`;
  const connection = new BrokerConnection(options.url, `${name} publish`);
  const consumeConnection = new BrokerConnection(options.url, `${name} consume`);
  const publisher = new ConfirmedPublisher(connection, topology, options.publishTimeoutMs);
  const metrics = messagingMetrics({
    backlog: () => relay.backlog(),
    connected: parts.isReady,
    blocked: () => connection.blockedReason() !== undefined,
    leader: () => relay.isLeader(),
    inFlight: () => consumer.inFlightCount(),
  });
  const relay = new OutboxRelay(
    dataSource,
    publisher,
    () => publisher.canPublish(),
    DEFAULT_OUTBOX_RELAY_OPTIONS,
    (type) => metrics.onPublished(type),
  );
  const consumer = new EventConsumer({
    connection: consumeConnection,
    publisher,
    topology,
    registry: parts.registry,
    handlers: parts.handlers,
    runner: new TransactionalRunner(dataSource, parts.outbox, options.handlerTimeoutMs),
    suspects: new CrashSuspects(dataSource),
    options,
    events: fanOut([metrics.consumer, parts.outcomes]),
  });
  dataSource.subscribers.push(new OutboxCommitHook(() => relay.poke()));
  return { connection, consumeConnection, publisher, consumer, relay, metrics };
}
