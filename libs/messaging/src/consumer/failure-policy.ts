import { type ContractExceptionType, EventContractError } from '@app/events';
import { type MessagePropertyHeaders } from 'amqplib';
import { type Subscription } from '../topology/topology.js';

/** The `x-exception-type` values of docs/contract.md section 5. */
export type ExceptionType = ContractExceptionType | 'handler-error' | 'delivery-limit';

/** Headers of the failure protocol. */
export const Headers = {
  retryCount: 'x-retry-count',
  exceptionType: 'x-exception-type',
  exceptionMessage: 'x-exception-message',
  exceptionStacktrace: 'x-exception-stacktrace',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  failedQueue: 'x-failed-queue',
  failedAt: 'x-failed-at',
  replayedAt: 'x-replayed-at',
  death: 'x-death',
  deliveryCount: 'x-delivery-count',
  /** AMQP's sender-selected distribution: extra routing keys, kept through dead-lettering. */
  cc: 'CC',
} as const;

const STACKTRACE_LIMIT = 4_000;
const MESSAGE_LIMIT = 1_000;

/** What happens to a message that could not be handled. */
export type FailureOutcome =
  | { kind: 'retry'; level: number; waitQueue: string; delayMs: number }
  | { kind: 'dead-letter'; exceptionType: ExceptionType };

/**
 * Contract errors go to the DLQ at once; handler errors go through the retry levels first,
 * one wait queue per level, then to the DLQ.
 */
export function classifyFailure(
  error: unknown,
  retryCount: number,
  subscription: Pick<Subscription, 'waitQueues'>,
): FailureOutcome {
  if (error instanceof EventContractError)
    return { kind: 'dead-letter', exceptionType: error.exceptionType };
  const wait = subscription.waitQueues[retryCount];
  if (!wait) return { kind: 'dead-letter', exceptionType: 'handler-error' };
  return { kind: 'retry', level: retryCount + 1, waitQueue: wait.name, delayMs: wait.delayMs };
}

/** Reads `x-retry-count` (0 when absent or malformed). */
export function retryCountOf(headers: MessagePropertyHeaders | undefined): number {
  const value = Number(headers?.[Headers.retryCount] ?? 0);
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

/** Where the message first came from: kept across retries so the DLQ names the real origin. */
export function originOf(
  headers: MessagePropertyHeaders | undefined,
  fields: { exchange: string; routingKey: string },
): { exchange: string; routingKey: string } {
  return {
    exchange: String(headers?.[Headers.originalExchange] ?? fields.exchange),
    routingKey: String(headers?.[Headers.originalRoutingKey] ?? fields.routingKey),
  };
}

/**
 * Headers of a retry copy: `x-death` stripped (a cycle would make RabbitMQ drop it), count
 * raised, and `CC` naming the origin queue: the shared wait queue dead-letters the copy into
 * `<service>.retry` with that key, so it returns to its origin queue only.
 */
export function retryHeaders(
  headers: MessagePropertyHeaders | undefined,
  origin: { exchange: string; routingKey: string },
  level: number,
  error: unknown,
  originQueue: string,
): MessagePropertyHeaders {
  const {
    [Headers.death]: _death,
    [Headers.deliveryCount]: _count,
    [Headers.cc]: _cc,
    ...kept
  } = headers ?? {};
  return {
    ...kept,
    [Headers.cc]: [originQueue],
    [Headers.retryCount]: level,
    [Headers.originalExchange]: origin.exchange,
    [Headers.originalRoutingKey]: origin.routingKey,
    [Headers.exceptionMessage]: truncate(errorMessage(error), MESSAGE_LIMIT),
  };
}

/** Headers of a dead letter: the reason, the origin, the time; the DLQ copy keeps `x-death`. */
export function deadLetterHeaders(
  headers: MessagePropertyHeaders | undefined,
  origin: { exchange: string; routingKey: string },
  queue: string,
  exceptionType: ExceptionType,
  error: unknown,
  retryCount: number,
): MessagePropertyHeaders {
  // The CC of its last retry is spent: a DLQ copy is routed by the origin queue's name alone.
  const { [Headers.cc]: _cc, ...kept } = headers ?? {};
  return {
    ...kept,
    [Headers.exceptionType]: exceptionType,
    [Headers.exceptionMessage]: truncate(errorMessage(error), MESSAGE_LIMIT),
    [Headers.exceptionStacktrace]: truncate(
      error instanceof Error ? (error.stack ?? '') : '',
      STACKTRACE_LIMIT,
    ),
    [Headers.originalExchange]: origin.exchange,
    [Headers.originalRoutingKey]: origin.routingKey,
    [Headers.failedQueue]: queue,
    [Headers.failedAt]: new Date().toISOString(),
    [Headers.retryCount]: retryCount,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 12)}…[truncated]`;
}
