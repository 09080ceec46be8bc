import { type CloudEvent } from '@app/events';
import { type OutgoingMessage } from '@app/messaging';
import { connectAny } from '@app/testing';
import type amqplib from 'amqplib';
import { type MessageProperties } from 'amqplib';

/** One event as the tap saw it on an exchange: enough to publish it again unchanged. */
export interface TappedEvent {
  id: string;
  type: string;
  subject?: string;
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: MessageProperties;
  envelope?: CloudEvent;
  /** How many copies with this id went through the exchanges. */
  copies: number;
}

const TAP_QUEUE = 'faults.tap';
const EXCHANGES = ['users.events', 'orders.events', 'inventory.events'];

/**
 * A durable quorum queue bound to every event exchange: a record of everything published, kept
 * by the broker across its own restart (and a node's loss) and read in batches by short-lived
 * connections.
 */
export class EventTap {
  readonly events = new Map<string, TappedEvent>();
  /** Messages on the exchanges that were not CloudEvents JSON (the poison the suite sent). */
  unreadable = 0;

  private constructor(private readonly url: string) {}

  static async create(url: string): Promise<EventTap> {
    const tap = new EventTap(url);
    await tap.withChannel(async (channel) => {
      // Quorum: on a cluster, a classic queue lives on one node, and while that node is down
      // what is published finds no tap to land in.
      await channel.assertQueue(TAP_QUEUE, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum' },
      });
      for (const exchange of EXCHANGES) await channel.bindQueue(TAP_QUEUE, exchange, '#');
    });
    return tap;
  }

  /** Reads everything the tap queue holds so far into `events`. */
  async collect(): Promise<void> {
    await this.withChannel(async (channel) => {
      for (;;) {
        const message = await channel.get(TAP_QUEUE, { noAck: true });
        if (!message) return;
        const id = String(message.properties.messageId ?? '');
        const known = this.events.get(id);
        if (known) {
          known.copies += 1;
          continue;
        }
        let envelope: CloudEvent | undefined;
        try {
          envelope = JSON.parse(message.content.toString()) as CloudEvent;
        } catch {
          this.unreadable += 1;
        }
        this.events.set(id, {
          id,
          type: envelope?.type ?? String(message.properties.type ?? ''),
          subject: envelope?.subject,
          exchange: message.fields.exchange,
          routingKey: message.fields.routingKey,
          content: message.content,
          properties: message.properties,
          envelope,
          copies: 1,
        });
      }
    });
  }

  /** Events of one type, in the order the tap saw them. */
  ofType(type: string): TappedEvent[] {
    return [...this.events.values()].filter((event) => event.type === type);
  }

  private async withChannel<T>(use: (channel: amqplib.Channel) => Promise<T>): Promise<T> {
    const connection = await connectAny(this.url);
    try {
      return await use(await connection.createChannel());
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}

/** Publishes messages with confirms on a short-lived connection. */
export async function publishConfirmed(url: string, messages: OutgoingMessage[]): Promise<void> {
  const connection = await connectAny(url);
  try {
    const channel = await connection.createConfirmChannel();
    for (const message of messages) {
      channel.publish(message.exchange, message.routingKey, message.body, message.properties);
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => undefined);
  }
}
