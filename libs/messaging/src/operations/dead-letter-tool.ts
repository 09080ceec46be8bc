import { pause, redact } from '@app/platform';
import amqplib, { type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { connectFailureHint } from '../connection/broker-connection.js';
import { Headers } from '../consumer/failure-policy.js';

/** Names of a dead-letter queue and of what it belongs to. */
export interface DeadLetterTarget {
  service: string;
  originQueue: string;
  deadLetterQueue: string;
  retryExchange: string;
}

export interface DeadLetterGroup {
  exceptionType: string;
  message: string;
  count: number;
  oldestFailedAt: string;
  newestFailedAt: string;
}

export interface DeadLetterSummary extends DeadLetterTarget {
  total: number;
  groups: DeadLetterGroup[];
}

/** An operator error: the message says what to do. */
export class DeadLetterToolError extends Error {
  override readonly name = 'DeadLetterToolError';
}

/** `email.user.registered` or `email.user.registered.dlq` -> the names around it. */
export function resolveDeadLetterTarget(queue: string): DeadLetterTarget {
  const originQueue = queue.endsWith('.dlq') ? queue.slice(0, -'.dlq'.length) : queue;
  const service = originQueue.split('.')[0] ?? '';
  if (!service || !originQueue.includes('.')) {
    throw new DeadLetterToolError(
      `"${queue}" is not a queue name of the form <service>.<event type>, e.g. email.user.registered.`,
    );
  }
  return {
    service,
    originQueue,
    deadLetterQueue: `${originQueue}.dlq`,
    retryExchange: `${service}.retry`,
  };
}

/**
 * Lists, replays and purges dead letters of one queue. Replay publishes each message to
 * `<service>.retry` keyed by the origin queue (so it reaches that queue only), with the retry
 * count reset, `x-death` removed and `x-replayed-at` added, and acks the dead letter only after
 * the broker confirmed the copy: an interrupted replay loses nothing.
 */
export class DeadLetterTool {
  private readonly returned = new Set<string>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly url: string,
  ) {}

  /** Connects; a broker that cannot be reached is a clear error. */
  static async connect(url: string): Promise<DeadLetterTool> {
    try {
      return new DeadLetterTool(await amqplib.connect(url), url);
    } catch (error) {
      const reason = (error as Error).message;
      const hint = connectFailureHint(reason, url);
      throw new DeadLetterToolError(
        `Cannot connect to RabbitMQ at ${redact(url)}: ${reason}. ${hint[0]!.toUpperCase()}${hint.slice(1)}.`,
      );
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  /** How many dead letters, grouped by exception type and message, oldest first. */
  async list(queue: string): Promise<DeadLetterSummary> {
    const target = resolveDeadLetterTarget(queue);
    const channel = await this.channelFor(target);
    const depth = (await channel.checkQueue(target.deadLetterQueue)).messageCount;
    const messages = await this.takeAll(channel, target.deadLetterQueue, depth);
    await this.giveBack(channel, target.deadLetterQueue, depth);
    const groups = new Map<string, DeadLetterGroup>();
    for (const message of messages) {
      const headers = message.properties.headers ?? {};
      const exceptionType = String(
        headers[Headers.exceptionType] ?? deathReason(headers) ?? 'unknown',
      );
      const text = String(headers[Headers.exceptionMessage] ?? '').split('\n')[0] ?? '';
      const failedAt = String(headers[Headers.failedAt] ?? '');
      const key = `${exceptionType}\u0000${text}`;
      const group = groups.get(key) ?? {
        exceptionType,
        message: text,
        count: 0,
        oldestFailedAt: failedAt,
        newestFailedAt: failedAt,
      };
      group.count += 1;
      if (failedAt && (!group.oldestFailedAt || failedAt < group.oldestFailedAt))
        group.oldestFailedAt = failedAt;
      if (failedAt > group.newestFailedAt) group.newestFailedAt = failedAt;
      groups.set(key, group);
    }
    return {
      ...target,
      total: messages.length,
      groups: [...groups.values()].sort((a, b) => a.oldestFailedAt.localeCompare(b.oldestFailedAt)),
    };
  }

  /** Replays dead letters to their origin queue; returns how many. */
  async replay(queue: string, options: { id?: string; limit?: number } = {}): Promise<number> {
    const target = resolveDeadLetterTarget(queue);
    const channel = await this.channelFor(target);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const depth = (await channel.checkQueue(target.deadLetterQueue)).messageCount;
    let replayed = 0;
    for (let seen = 0; seen < depth && replayed < limit; seen += 1) {
      const message = await channel.get(target.deadLetterQueue, { noAck: false });
      if (!message) break;
      if (options.id && message.properties.messageId !== options.id) continue; // stays unacked: returned on close
      const {
        [Headers.death]: _death,
        [Headers.cc]: _cc,
        ...headers
      } = message.properties.headers ?? {};
      channel.publish(target.retryExchange, target.originQueue, message.content, {
        ...message.properties,
        headers: {
          ...headers,
          [Headers.retryCount]: 0,
          [Headers.replayedAt]: new Date().toISOString(),
        },
        mandatory: true,
        persistent: true,
      });
      await channel.waitForConfirms();
      if (this.returned.delete(String(message.properties.messageId))) {
        await channel.close(); // the dead letter stays where it is
        throw new DeadLetterToolError(
          `RabbitMQ could not route the replay of ${String(message.properties.messageId)} to ${target.originQueue}: ` +
            `is the queue bound to ${target.retryExchange}? Start the ${target.service} service so it declares its topology.`,
        );
      }
      channel.ack(message);
      replayed += 1;
    }
    await this.giveBack(channel, target.deadLetterQueue, depth - replayed);
    return replayed;
  }

  /** Deletes every dead letter of the queue; returns how many. */
  async purge(queue: string): Promise<number> {
    const target = resolveDeadLetterTarget(queue);
    const channel = await this.channelFor(target);
    const { messageCount } = await channel.purgeQueue(target.deadLetterQueue);
    await channel.close();
    return messageCount;
  }

  /** A confirm channel, after checking that the DLQ and the retry exchange exist. */
  private async channelFor(target: DeadLetterTarget): Promise<ConfirmChannel> {
    const check = await this.connection.createChannel();
    check.on('error', () => undefined);
    try {
      await check.checkQueue(target.deadLetterQueue);
      await check.checkExchange(target.retryExchange);
    } catch {
      throw new DeadLetterToolError(
        `No dead-letter queue "${target.deadLetterQueue}" (or exchange "${target.retryExchange}") on ${redact(this.url)}. ` +
          `Give the origin queue name, e.g. email.user.registered; npm run topology lists them.`,
      );
    } finally {
      await check.close().catch(() => undefined);
    }
    const channel = await this.connection.createConfirmChannel();
    channel.on('return', (message: GetMessage) =>
      this.returned.add(String(message.properties.messageId)),
    );
    return channel;
  }

  /**
   * Closes the channel, which returns every message it holds unacked to the queue, and waits
   * until the queue counts them again: RabbitMQ requeues after the close is confirmed (a
   * quorum queue after a consensus round), so without the wait a listing could briefly look
   * like it took the dead letters away. Gives up waiting after 10 s (someone else may be
   * replaying or purging the same queue at once).
   */
  private async giveBack(channel: ConfirmChannel, queue: string, expected: number): Promise<void> {
    await channel.close();
    const check = await this.connection.createChannel();
    check.on('error', () => undefined);
    try {
      const deadline = Date.now() + 10_000;
      while ((await check.checkQueue(queue)).messageCount < expected && Date.now() < deadline)
        await pause(20);
    } finally {
      await check.close().catch(() => undefined);
    }
  }

  private async takeAll(
    channel: ConfirmChannel,
    queue: string,
    depth: number,
  ): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    for (let i = 0; i < depth; i += 1) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      messages.push(message);
    }
    return messages;
  }
}

function deathReason(headers: Record<string, unknown>): string | undefined {
  const deaths = headers[Headers.death] as { reason?: string }[] | undefined;
  return deaths?.[0]?.reason === 'delivery_limit' ? 'delivery-limit' : undefined;
}
