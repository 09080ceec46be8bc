import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../support/http.js';
import { prng } from '../support/prng.js';

/** What the customer plans to do with an order once it is accepted. */
export type Plan = 'pay' | 'cancel' | 'cancel-early' | 'keep';

export interface Customer {
  id: string;
  email: string;
  name: string;
  token: string;
}

export interface Item {
  sku: string;
  quantity: number;
}

/** One `POST /orders` request, retried with its Idempotency-Key until the gateway answers. */
export interface OrderRequest {
  key: string;
  customer: Customer;
  items: Item[];
  plan: Plan;
  /** Milliseconds since the load started. */
  requestedAt: number;
  /** Every order id the gateway answered for this key: more than one is a duplicate. */
  orderIds: Set<string>;
  /** The 4xx the gateway answered instead of 202, if any. */
  refused?: number;
  /** The payment was accepted (202, or 409 with the order PAID after a lost answer). */
  paid: boolean;
  /** The cancellation was accepted (202, or 409 with the order CANCELLED after a lost answer). */
  cancelled: boolean;
  /** The order was seen CONFIRMED before the follow-up, with its total. */
  totalCents?: number;
}

/** HTTP failures a client retries: no answer, or a 5xx. Timestamped for the per-fault table. */
export interface HttpFailure {
  at: number;
  what: string;
}

export const REQUEST_TIMEOUT_MS = 10_000;
const GIVE_UP_MS = 180_000;

/**
 * Customers placing orders at a steady rate through the gateway, then paying for, cancelling or
 * keeping them. Every request is retried until it gets an answer, the way a careful client
 * would: `POST /orders` with the same Idempotency-Key, payments and cancellations after reading
 * the order back.
 */
export class LoadDriver {
  readonly customers: Customer[] = [];
  readonly requests: OrderRequest[] = [];
  readonly failures: HttpFailure[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly random: () => number;
  private skus: string[] = [];
  private startedAt = Date.now();
  private stopped = false;

  constructor(
    private readonly gateway: string,
    readonly seed: number,
  ) {
    this.random = prng(seed);
  }

  /** Milliseconds since the load started. */
  now(): number {
    return this.sinceStart(Date.now());
  }

  /** A `Date.now()` value as milliseconds since the load started. */
  sinceStart(epochMs: number): number {
    return epochMs - this.startedAt;
  }

  /** Registers `count` customers and signs each in. */
  async register(count: number): Promise<void> {
    const products = (await call(`${this.gateway}/products`)).body as { sku: string }[];
    this.skus = products.map((p) => p.sku);
    const run = randomUUID().slice(0, 8);
    for (let i = 0; i < count; i++) {
      const email = `customer${i}.${run}@example.test`;
      const name = `Customer ${i}`;
      const password = `pw-${run}-${i}-long-enough`;
      const created = await this.retry('POST /users', () =>
        call(`${this.gateway}/users`, { body: { email, name, password } }),
      );
      if (created.status !== 201) throw new Error(`POST /users answered ${created.status}`);
      const token = await this.retry('POST /auth/token', () =>
        call(`${this.gateway}/auth/token`, { body: { email, password } }),
      );
      const { accessToken } = token.body as { accessToken: string };
      this.customers.push({
        id: (created.body as { id: string }).id,
        email,
        name,
        token: accessToken,
      });
    }
  }

  /** Places orders at `perSecond` until `stop()`; returns at once. */
  start(perSecond: number): void {
    this.startedAt = Date.now();
    const interval = 1000 / perSecond;
    const tick = async () => {
      let next = Date.now();
      while (!this.stopped) {
        this.track(this.placeOne());
        next += interval;
        await sleep(Math.max(0, next - Date.now()));
      }
    };
    this.track(tick());
  }

  /** Stops placing orders and waits for every request and follow-up in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Orders the gateway accepted (answered 202). */
  accepted(): OrderRequest[] {
    return this.requests.filter((r) => r.orderIds.size > 0);
  }

  private track(promise: Promise<void>): void {
    const tracked = promise.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.random() * values.length)]!;
  }

  private async placeOne(): Promise<void> {
    const roll = this.random();
    const plan: Plan =
      roll < 0.45 ? 'pay' : roll < 0.6 ? 'cancel' : roll < 0.7 ? 'cancel-early' : 'keep';
    // Mostly plentiful products; one order in ten wants the 10-unit lamp, so some are rejected.
    const plentiful = this.skus.filter((sku) => sku !== 'LAMP-LTD');
    const items = new Map<string, number>();
    for (let n = 1 + Math.floor(this.random() * 2); n > 0; n--) {
      items.set(this.pick(plentiful), 1 + Math.floor(this.random() * 2));
    }
    if (this.random() < 0.1 && this.skus.includes('LAMP-LTD')) items.set('LAMP-LTD', 1);
    const request: OrderRequest = {
      key: randomUUID(),
      customer: this.pick(this.customers),
      items: [...items].map(([sku, quantity]) => ({ sku, quantity })),
      plan,
      requestedAt: this.now(),
      orderIds: new Set(),
      paid: false,
      cancelled: false,
    };
    this.requests.push(request);
    const answer = await this.retry('POST /orders', () =>
      call(`${this.gateway}/orders`, {
        body: { items: request.items },
        token: request.customer.token,
        headers: { 'idempotency-key': request.key },
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    if (answer.status !== 202) {
      request.refused = answer.status;
      return;
    }
    const orderId = (answer.body as { orderId: string }).orderId;
    request.orderIds.add(orderId);
    // A replay of the same key must answer the same order: ask once more, as a client whose
    // first answer was lost would.
    if (this.random() < 0.1) {
      const again = await this.retry('POST /orders (replay)', () =>
        call(`${this.gateway}/orders`, {
          body: { items: request.items },
          token: request.customer.token,
          headers: { 'idempotency-key': request.key },
          timeoutMs: REQUEST_TIMEOUT_MS,
        }),
      );
      const replayed = (again.body as { orderId?: string }).orderId;
      if (replayed) request.orderIds.add(replayed);
    }
    await this.followUp(request, orderId);
  }

  private async followUp(request: OrderRequest, orderId: string): Promise<void> {
    if (request.plan === 'keep') return;
    if (request.plan === 'cancel-early') return this.cancel(request, orderId);
    const order = await this.awaitOutcome(request, orderId);
    if (order?.status !== 'CONFIRMED') return;
    request.totalCents = order.totalCents;
    if (request.plan === 'cancel') return this.cancel(request, orderId);
    const answer = await this.retry('POST /orders/:id/payments', () =>
      call(`${this.gateway}/orders/${orderId}/payments`, {
        body: { amountCents: order.totalCents },
        token: request.customer.token,
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    if (answer.status === 202) request.paid = true;
    else if (answer.status === 409)
      request.paid = (await this.read(request, orderId))?.status === 'PAID';
  }

  private async cancel(request: OrderRequest, orderId: string): Promise<void> {
    const answer = await this.retry('POST /orders/:id/cancel', () =>
      call(`${this.gateway}/orders/${orderId}/cancel`, {
        method: 'POST',
        token: request.customer.token,
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    if (answer.status === 202) request.cancelled = true;
    else if (answer.status === 409)
      request.cancelled = (await this.read(request, orderId))?.status === 'CANCELLED';
  }

  private async read(
    request: OrderRequest,
    orderId: string,
  ): Promise<{ status: string; totalCents: number } | undefined> {
    const answer = await this.retry('GET /orders/:id', () =>
      call(`${this.gateway}/orders/${orderId}`, {
        token: request.customer.token,
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    return answer.status === 200
      ? (answer.body as { status: string; totalCents: number })
      : undefined;
  }

  /** Polls the order until it leaves PENDING (undefined if it never does within the limit). */
  private async awaitOutcome(request: OrderRequest, orderId: string) {
    const deadline = Date.now() + GIVE_UP_MS;
    while (Date.now() < deadline) {
      const order = await this.read(request, orderId);
      if (order && order.status !== 'PENDING') return order;
      await sleep(250);
    }
    return undefined;
  }

  private retry<T extends { status: number }>(what: string, attempt: () => Promise<T>): Promise<T> {
    return retryUntilAnswered(what, attempt, this.failures, () => this.now());
  }
}

/**
 * Repeats `attempt` while it throws (no answer) or answers 5xx, as a careful client does,
 * recording each failure with `now()`; gives up after `GIVE_UP_MS`.
 */
export async function retryUntilAnswered<T extends { status: number }>(
  what: string,
  attempt: () => Promise<T>,
  failures: HttpFailure[],
  now: () => number,
): Promise<T> {
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    try {
      const answer = await attempt();
      if (answer.status < 500) return answer;
      failures.push({ at: now(), what: `${what}: ${answer.status}` });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      failures.push({ at: now(), what: `${what}: ${cause ?? (error as Error).name}` });
    }
    if (Date.now() > deadline) throw new Error(`${what}: no answer for ${GIVE_UP_MS} ms`);
    await sleep(200);
  }
}
