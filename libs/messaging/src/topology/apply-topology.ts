import { type Channel } from 'amqplib';
import { TopologyMismatchError } from '../errors.js';
import { type Subscription, type Topology } from './topology.js';

/** Declares the service's own exchanges (durable). Idempotent: runs on every (re)connect. */
export async function assertExchanges(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, {
      durable: true,
      autoDelete: false,
    });
  }
}

/**
 * Checks that a producer's exchange exists, without declaring it: a consumer needs no
 * configure permission on another service's exchange, so it can neither delete nor re-declare
 * it. A missing one fails the channel with 404, and the channel tries again later.
 */
export async function checkSourceExchange(channel: Channel, exchange: string): Promise<void> {
  await channel.checkExchange(exchange);
}

/** Declares a subscription's queues (durable) with their arguments; a mismatch names the argument. */
export async function assertQueues(channel: Channel, subscription: Subscription): Promise<void> {
  for (const queue of subscription.queues) {
    try {
      await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    } catch (error) {
      throw asMismatch(error, queue.name);
    }
  }
}

/** Binds a subscription's queues to their exchanges and routing keys. */
export async function applyBindings(channel: Channel, subscription: Subscription): Promise<void> {
  for (const binding of subscription.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}

/**
 * One subscription, on the channel that consumes it: its producer's exchange checked, the
 * service's own exchanges declared (its wait and dead-letter queues are bound to them), its
 * queues declared and bound.
 */
export async function applySubscription(
  channel: Channel,
  topology: Topology,
  subscription: Subscription,
): Promise<void> {
  if (subscription.sourceExchange !== topology.eventsExchange)
    await checkSourceExchange(channel, subscription.sourceExchange);
  await assertExchanges(channel, topology);
  await assertQueues(channel, subscription);
  await applyBindings(channel, subscription);
}

/** The whole topology on one channel (tools, tests, benchmarks), in the order the services use. */
export async function applyTopology(channel: Channel, topology: Topology): Promise<void> {
  await assertExchanges(channel, topology);
  for (const subscription of topology.subscriptions)
    await applySubscription(channel, topology, subscription);
}

function asMismatch(error: unknown, queue: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const argument = /inequivalent arg '([^']+)'/.exec(message)?.[1];
  if (!argument) return error instanceof Error ? error : new Error(message);
  const values = /received '([^']*)' but current is '([^']*)'/.exec(message);
  const detail = values ? ` (this service declares ${values[1]}, the broker has ${values[2]})` : '';
  return new TopologyMismatchError(
    `Queue "${queue}" exists with a different ${argument}${detail}. ` +
      `Queue arguments cannot change in place: drain and delete the queue (or migrate it to a new name), ` +
      `or set the configuration back to match it.`,
  );
}
