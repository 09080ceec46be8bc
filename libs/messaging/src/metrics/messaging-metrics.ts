import { counter, gauge, histogram } from '@app/platform';
import { type ConsumerEvents } from '../consumer/event-consumer.js';

const published = counter(
  'messaging_events_published_total',
  'Events the outbox relay published (confirmed, not returned)',
  ['type'],
);
const consumed = counter('messaging_events_consumed_total', 'Events handled and acked', [
  'queue',
  'type',
]);
const retried = counter('messaging_events_retried_total', 'Deliveries moved to a retry level', [
  'queue',
  'type',
]);
const deadLettered = counter(
  'messaging_events_dead_lettered_total',
  'Deliveries moved to a dead-letter queue',
  ['queue', 'type', 'exception_type'],
);
const duplicates = counter(
  'messaging_inbox_duplicates_total',
  'Deliveries skipped by the inbox as already handled',
  ['queue', 'type'],
);
const duration = histogram(
  'messaging_handler_duration_seconds',
  'Time from the start of handling to the ack, per queue and type',
  ['queue', 'type'],
  [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
);

/** Sources of the outbox gauges: every relay of the process (one per service in production). */
const backlogSources = new Set<() => Promise<{ pending: number; oldestAgeMs: number }>>();
let lastBacklog: { pending: number; oldestAgeMs: number } = { pending: 0, oldestAgeMs: 0 };
async function readBacklog(): Promise<void> {
  const parts = await Promise.all(
    [...backlogSources].map((read) => read().catch(() => ({ pending: 0, oldestAgeMs: 0 }))),
  );
  lastBacklog = {
    pending: parts.reduce((sum, part) => sum + part.pending, 0),
    oldestAgeMs: Math.max(0, ...parts.map((part) => part.oldestAgeMs)),
  };
}
gauge('messaging_outbox_pending', 'Outbox rows not yet published', async function () {
  await readBacklog();
  this.set(lastBacklog.pending);
});
gauge(
  'messaging_outbox_oldest_pending_age_seconds',
  'Age of the oldest unpublished outbox row',
  function () {
    this.set(lastBacklog.oldestAgeMs / 1000);
  },
);
const connectedSources = new Set<() => boolean>();
gauge('messaging_broker_connected', '1 while connected to RabbitMQ', function () {
  this.set([...connectedSources].every((connected) => connected()) ? 1 : 0);
});

const blockedSources = new Set<() => boolean>();
gauge(
  'messaging_broker_blocked',
  '1 while RabbitMQ blocks publishing (a memory or disk alarm)',
  function () {
    this.set([...blockedSources].some((blocked) => blocked()) ? 1 : 0);
  },
);
const leaderSources = new Set<() => boolean>();
gauge(
  'messaging_outbox_relay_leader',
  '1 while this process holds the outbox relay lock of its database (one replica at a time)',
  function () {
    this.set([...leaderSources].some((leader) => leader()) ? 1 : 0);
  },
);
const inFlightSources = new Set<() => number>();
gauge(
  'messaging_deliveries_in_flight',
  'Deliveries received and not yet acked, retried or dead-lettered',
  function () {
    this.set([...inFlightSources].reduce((sum, count) => sum + count(), 0));
  },
);

/** Registers one service's sources with the process metrics; returns the consumer observers. */
export function messagingMetrics(sources: {
  backlog: () => Promise<{ pending: number; oldestAgeMs: number }>;
  connected: () => boolean;
  blocked: () => boolean;
  leader: () => boolean;
  inFlight: () => number;
}): { consumer: Required<ConsumerEvents>; onPublished(type: string): void; dispose(): void } {
  backlogSources.add(sources.backlog);
  connectedSources.add(sources.connected);
  blockedSources.add(sources.blocked);
  leaderSources.add(sources.leader);
  inFlightSources.add(sources.inFlight);
  return {
    consumer: {
      onHandled: (queue, type, ms) => {
        consumed.inc({ queue, type });
        duration.observe({ queue, type }, ms / 1000);
      },
      onDuplicate: (queue, type) => duplicates.inc({ queue, type }),
      onRetried: (queue, type) => retried.inc({ queue, type }),
      onDeadLettered: (queue, type, exceptionType) =>
        deadLettered.inc({ queue, type, exception_type: exceptionType }),
    },
    onPublished: (type) => published.inc({ type }),
    dispose: () => {
      backlogSources.delete(sources.backlog);
      connectedSources.delete(sources.connected);
      blockedSources.delete(sources.blocked);
      leaderSources.delete(sources.leader);
      inFlightSources.delete(sources.inFlight);
    },
  };
}
