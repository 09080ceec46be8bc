import { type Channel } from 'amqplib';
import { TopologyMismatchError } from '../errors.js';
import { type Topology } from './topology.js';

/** Declares exchanges (durable). Idempotent: runs on every (re)connect. */
export async function assertExchanges(channel: Channel, topology: Topology): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, {
      durable: true,
      autoDelete: false,
    });
  }
}

/** Declares queues (durable) with their arguments; a mismatch names the argument. */
export async function assertQueues(channel: Channel, topology: Topology): Promise<void> {
  for (const queue of topology.queues) {
    try {
      await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    } catch (error) {
      throw asMismatch(error, queue.name);
    }
  }
}

/** Binds every queue to its exchange and routing key. */
export async function applyBindings(channel: Channel, topology: Topology): Promise<void> {
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}

/** The three steps, in order. */
export async function applyTopology(channel: Channel, topology: Topology): Promise<void> {
  await assertExchanges(channel, topology);
  await assertQueues(channel, topology);
  await applyBindings(channel, topology);
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
