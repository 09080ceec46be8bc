import { type DecodedEvent, EventRegistry } from '@app/events';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { FakeBroker, type FakeChannel } from '../../test/fake-amqp.js';
import { orderPlaced } from '../../test/harness.js';
import { BrokerConnection } from '../connection/broker-connection.js';
import { type HandlerRunner } from '../inbox/transactional-runner.js';
import { resolveMessagingOptions } from '../messaging.options.js';
import { type OutgoingMessage } from '../publisher/amqp-message.js';
import { buildTopology } from '../topology/topology.js';
import { type EventContext } from './event-context.js';
import { type ConsumerEvents, EventConsumer } from './event-consumer.js';
import { Headers } from './failure-policy.js';

/**
 * The consume pipeline against fakes of amqplib's channel, a publisher and a runner: what it
 * acks, requeues and copies where, decided in milliseconds. The same paths against RabbitMQ
 * and PostgreSQL are in event-consumer.int-spec.ts.
 */
const URL = 'amqp://guest:guest@fake-node:5672/v';
const QUEUE = 'inventory.order.placed';
const options = resolveMessagingOptions({ service: 'inventory', url: URL, shutdownTimeoutMs: 500 });
const topology = buildTopology(options, ['order.placed']);

/** Lets promise chains and pending I/O callbacks run. */
const settle = async (rounds = 5) => {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
};

/** A promise and the functions that settle it. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('EventConsumer (with a fake channel)', () => {
  let broker: FakeBroker;
  let connection: BrokerConnection;
  let consumer: EventConsumer;
  let channel: FakeChannel;
  /** What the handler does with each event; the default handles it. */
  let behaviour: (event: DecodedEvent) => Promise<void>;
  /** Ids the runner treats as handled before (the inbox). */
  let handledBefore: Set<string>;
  /** Retry and dead-letter copies, and how each publish ends. */
  let copies: OutgoingMessage[];
  let publishOutcome: () => Promise<void>;
  let suspects: Set<string>;
  let outcomes: string[];
  let ran: string[];

  const runner: HandlerRunner = {
    async run(_consumer, event, _delivery, invoke) {
      if (handledBefore.has(event.envelope.id)) return 'duplicate';
      await invoke({} as EventContext);
      return 'handled';
    },
  };

  const events: ConsumerEvents = {
    onHandled: (_queue, type) => outcomes.push(`handled ${type}`),
    onDuplicate: (_queue, type) => outcomes.push(`duplicate ${type}`),
    onRetried: (_queue, type, level) => outcomes.push(`retried ${type} ${level}`),
    onDeadLettered: (_queue, type, why) => outcomes.push(`dead-lettered ${type} ${why}`),
  };

  beforeEach(async () => {
    broker = new FakeBroker();
    behaviour = () => Promise.resolve();
    handledBefore = new Set();
    copies = [];
    publishOutcome = () => Promise.resolve();
    suspects = new Set();
    outcomes = [];
    ran = [];
    connection = new BrokerConnection(URL, 'consume', broker.connect);
    consumer = new EventConsumer({
      connection,
      publisher: {
        publish: async (message) => {
          await publishOutcome();
          copies.push(message);
        },
      },
      topology,
      registry: new EventRegistry({ defaultCurrency: 'EUR' }),
      handlers: new Map([
        [
          'order.placed',
          [
            {
              type: 'order.placed' as const,
              name: 'inventory:reserve',
              invoke: async (event: DecodedEvent) => {
                ran.push(event.envelope.id);
                await behaviour(event);
              },
            },
          ],
        ],
      ]),
      runner,
      suspects: {
        crashedWhileRunning: (_queue, id) => Promise.resolve(suspects.has(id)),
        markRunning: (_queue, id) => Promise.resolve(void suspects.add(id)),
        clear: (_queue, id) => Promise.resolve(void suspects.delete(id)),
      },
      options,
      events,
    });
    connection.start();
    consumer.start();
    await consumer.whenConsuming();
    channel = broker.current!.channels[0]!;
  });

  afterEach(async () => {
    await consumer.stop();
    await connection.close();
  });

  /** A header of the `index`th copy published. */
  const headerOf = (index: number, name: string): unknown =>
    (copies[index]!.properties.headers as Record<string, unknown> | undefined)?.[name];

  const deliver = (
    event: ReturnType<typeof orderPlaced> | Buffer,
    extra: Parameters<FakeChannel['deliver']>[2] = {},
  ) =>
    channel.deliver(QUEUE, Buffer.isBuffer(event) ? event : Buffer.from(JSON.stringify(event)), {
      messageId: Buffer.isBuffer(event) ? undefined : event.id,
      type: Buffer.isBuffer(event) ? undefined : event.type,
      ...extra,
    });

  it('declares its queues, consumes, and acks a handled delivery once', async () => {
    expect(channel.declared).toContain(`queue ${QUEUE}`);
    const event = orderPlaced();
    const tag = deliver(event);
    await settle();
    expect(ran).toEqual([event.id]);
    expect(channel.settled).toEqual([{ tag, how: 'ack' }]);
    expect(outcomes).toEqual(['handled order.placed']);
  });

  it('acks a duplicate without running the handler', async () => {
    const event = orderPlaced();
    handledBefore.add(event.id);
    const tag = deliver(event);
    await settle();
    expect(ran).toEqual([]);
    expect(channel.settled).toEqual([{ tag, how: 'ack' }]);
    expect(outcomes).toEqual(['duplicate order.placed', 'handled order.placed']);
  });

  it('copies a failed delivery to the first wait queue, and acks only once the copy is confirmed', async () => {
    behaviour = () => Promise.reject(new Error('stock ledger unavailable'));
    const confirm = deferred();
    publishOutcome = () => confirm.promise;
    const event = orderPlaced();
    const tag = deliver(event);
    await settle();
    expect(channel.settled).toEqual([]);
    confirm.resolve();
    await settle();
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({
      exchange: topology.waitExchange,
      routingKey: topology.subscriptions[0]!.waitQueues[0]!.name,
      body: Buffer.from(JSON.stringify(event)),
    });
    expect(copies[0]!.properties.headers).toMatchObject({
      [Headers.retryCount]: 1,
      [Headers.cc]: [QUEUE],
      [Headers.exceptionMessage]: 'Error: stock ledger unavailable',
    });
    expect(channel.settled).toEqual([{ tag, how: 'ack' }]);
    expect(outcomes).toEqual(['retried order.placed 1']);
  });

  it('dead-letters what it cannot decode with the reason, and goes on consuming', async () => {
    const bad = deliver(Buffer.from('{"not": "an event"'));
    const good = orderPlaced();
    const goodTag = deliver(good);
    await settle();
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatchObject({ exchange: topology.deadLetterExchange, routingKey: QUEUE });
    expect(headerOf(0, Headers.exceptionType)).toBe('malformed-message');
    expect(channel.settled).toEqual(
      expect.arrayContaining([
        { tag: bad, how: 'ack' },
        { tag: goodTag, how: 'ack' },
      ]),
    );
    expect(ran).toEqual([good.id]);
  });

  it('dead-letters a delivery past the last retry level', async () => {
    behaviour = () => Promise.reject(new Error('still failing'));
    const levels = topology.subscriptions[0]!.waitQueues.length;
    deliver(orderPlaced(), { headers: { [Headers.retryCount]: levels } });
    await settle();
    expect(copies.map((c) => c.exchange)).toEqual([topology.deadLetterExchange]);
    expect(headerOf(0, Headers.exceptionType)).toBe('handler-error');
  });

  it('requeues the original when its retry copy cannot be published', async () => {
    behaviour = () => Promise.reject(new Error('handler failed'));
    publishOutcome = () => Promise.reject(new Error('publish timed out'));
    const tag = deliver(orderPlaced());
    await settle();
    expect(copies).toEqual([]);
    expect(channel.settled).toEqual([{ tag, how: 'nack', requeue: true }]);
  });

  it('runs the events of one subject one at a time in arrival order, other subjects beside them', async () => {
    const gates = new Map<string, { resolve: () => void }>();
    behaviour = (event) => {
      const gate = deferred();
      gates.set(event.envelope.id, gate);
      return gate.promise;
    };
    const orderId = randomUUID();
    const first = orderPlaced({ orderId });
    const second = orderPlaced({ orderId });
    const other = orderPlaced();
    deliver(first);
    deliver(second);
    deliver(other);
    await settle();
    expect(ran).toEqual([first.id, other.id]);
    gates.get(first.id)!.resolve();
    await settle();
    expect(ran).toEqual([first.id, other.id, second.id]);
    gates.get(second.id)!.resolve();
    gates.get(other.id)!.resolve();
    await settle();
    expect(channel.settled.map((s) => s.how)).toEqual(['ack', 'ack', 'ack']);
  });

  it('dead-letters a redelivery at the delivery limit without running it', async () => {
    deliver(orderPlaced(), {
      redelivered: true,
      headers: { [Headers.deliveryCount]: options.deliveryLimit - 1 },
    });
    await settle();
    expect(ran).toEqual([]);
    expect(headerOf(0, Headers.exceptionType)).toBe('delivery-limit');
  });

  it('moves a crash suspect to the next retry level instead of running it again', async () => {
    const event = orderPlaced();
    suspects.add(event.id);
    deliver(event, { redelivered: true, headers: { [Headers.deliveryCount]: 1 } });
    await settle();
    expect(ran).toEqual([]);
    expect(copies[0]).toMatchObject({ exchange: topology.waitExchange });
    expect(String(headerOf(0, Headers.exceptionMessage))).toContain('crash suspect');
    expect(suspects.has(event.id)).toBe(false);
  });

  it('runs an innocent redelivery alone under a marker, and clears the marker after', async () => {
    const event = orderPlaced();
    const gate = deferred();
    behaviour = () => gate.promise;
    deliver(event, { redelivered: true, headers: { [Headers.deliveryCount]: 1 } });
    await settle();
    expect(ran).toEqual([event.id]);
    expect(suspects.has(event.id)).toBe(true);
    gate.resolve();
    await settle();
    expect(suspects.has(event.id)).toBe(false);
    expect(channel.settled.map((s) => s.how)).toEqual(['ack']);
  });

  it('hands back a delivery that arrives once stopping began, and finishes what it started', async () => {
    const gate = deferred();
    behaviour = () => gate.promise;
    const running = deliver(orderPlaced());
    await settle();
    const stopped = consumer.stop();
    await settle();
    expect(channel.cancelled).toHaveLength(1);
    // Sent by the broker before it saw the cancel.
    const late = deliver(orderPlaced());
    gate.resolve();
    await stopped;
    expect(channel.settled).toEqual(
      expect.arrayContaining([
        { tag: late, how: 'nack', requeue: true },
        { tag: running, how: 'ack' },
      ]),
    );
  });

  it('settles nothing on a channel that closed: the broker requeued what it held', async () => {
    const gate = deferred();
    behaviour = () => gate.promise;
    deliver(orderPlaced());
    await settle();
    channel.failWith('PRECONDITION_FAILED - unknown delivery tag');
    gate.resolve();
    await settle();
    expect(channel.settled).toEqual([]);
  });
});
