import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { runUsersCommand } from '../../apps/users/src/accounts/roles-command.js';
import { call } from '../support/http.js';
import { prng } from '../support/prng.js';
import { type HttpFailure, REQUEST_TIMEOUT_MS, retryUntilAnswered } from './load.js';

/** A stock receipt the gateway accepted, under its Idempotency-Key. */
export interface AcceptedReceipt {
  key: string;
  /** The request's x-correlation-id, which its stock.adjusted event carries. */
  correlationId: string;
  sku: string;
  units: number;
  at: number;
}

/** A price change the gateway accepted (or found applied after a lost answer). */
export interface AcceptedPriceChange {
  /** The request's x-correlation-id, which its product.updated event carries. */
  correlationId: string;
  sku: string;
  priceCents: number;
  at: number;
}

/**
 * An administrator working during the load: every `everyMs`, a stock receipt (with an
 * Idempotency-Key, retried with the same key until the gateway answers) or a price change
 * to a price it does not have (retried until answered; a 409 "no change" then means a lost
 * attempt applied it, which reading the product back confirms). One command at a time, so each
 * SKU's accepted price changes are in order and the last one is its price.
 */
export class AdminDriver {
  readonly receipts: AcceptedReceipt[] = [];
  readonly priceChanges: AcceptedPriceChange[] = [];
  readonly failures: HttpFailure[] = [];
  private token = '';
  private email = '';
  /** Each SKU's price as this administrator last saw or set it. */
  private readonly prices = new Map<string, number>();
  private stopped = false;
  private running?: Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly gateway: string,
    private readonly usersDatabaseUrl: string,
    /** Milliseconds since the load started, as the order load counts them. */
    private readonly now: () => number,
    seed: number,
    /** The SKUs it receives and reprices (never the 10-unit lamp, whose race the load needs). */
    private readonly skus: readonly string[],
  ) {
    this.random = prng(seed ^ 0x5eed);
  }

  /** Registers the administrator, grants the role as an operator would, and signs in. */
  async signIn(): Promise<void> {
    this.email = `admin.${randomUUID().slice(0, 8)}@example.test`;
    const password = `admin-${randomUUID()}`;
    const created = await this.retry('POST /users (admin)', () =>
      call(`${this.gateway}/users`, { body: { email: this.email, name: 'Admin', password } }),
    );
    if (created.status !== 201) throw new Error(`POST /users answered ${created.status}`);
    const granted = await runUsersCommand(
      ['grant-admin', this.email, '--operator', 'fault-suite'],
      { DATABASE_URL: this.usersDatabaseUrl },
      () => undefined,
    );
    if (granted !== 0) throw new Error(`grant-admin ${this.email} exited ${granted}`);
    const token = await this.retry('POST /auth/token (admin)', () =>
      call(`${this.gateway}/auth/token`, { body: { email: this.email, password } }),
    );
    this.token = (token.body as { accessToken: string }).accessToken;
    for (const product of await this.products()) this.prices.set(product.sku, product.priceCents);
  }

  private async products(): Promise<{ sku: string; priceCents: number }[]> {
    const answer = await this.retry('GET /admin/products', () =>
      call(`${this.gateway}/admin/products`, { token: this.token, timeoutMs: REQUEST_TIMEOUT_MS }),
    );
    if (answer.status !== 200) throw new Error(`GET /admin/products answered ${answer.status}`);
    return answer.body as { sku: string; priceCents: number }[];
  }

  /** The actor inventory records for this administrator's adjustments. */
  get actor(): string {
    return this.email;
  }

  start(everyMs: number): void {
    this.running = (async () => {
      while (!this.stopped) {
        await sleep(everyMs);
        if (this.stopped) break;
        const sku = this.skus[Math.floor(this.random() * this.skus.length)]!;
        if (this.random() < 0.5) await this.receive(sku, 1 + Math.floor(this.random() * 5));
        else await this.reprice(sku, 500 + Math.floor(this.random() * 200) * 50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async receive(sku: string, units: number): Promise<void> {
    const key = randomUUID();
    const correlationId = `admin-${key}`;
    const answer = await this.retry('POST /admin/products/:sku/stock-adjustments', () =>
      call(`${this.gateway}/admin/products/${sku}/stock-adjustments`, {
        body: { reason: 'received', change: units, note: 'fault suite' },
        token: this.token,
        headers: { 'idempotency-key': key, 'x-correlation-id': correlationId },
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    if (answer.status !== 201)
      throw new Error(`a stock receipt of ${sku} answered ${answer.status}`);
    this.receipts.push({ key, correlationId, sku, units, at: this.now() });
  }

  private async reprice(sku: string, wanted: number): Promise<void> {
    // Always a real change: a 409 "nothing differs" then means a lost attempt applied it.
    const priceCents = wanted === this.prices.get(sku) ? wanted + 50 : wanted;
    const correlationId = `admin-${randomUUID()}`;
    const answer = await this.retry('PATCH /admin/products/:sku', () =>
      call(`${this.gateway}/admin/products/${sku}`, {
        method: 'PATCH',
        body: { priceCents },
        token: this.token,
        headers: { 'x-correlation-id': correlationId },
        timeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    if (answer.status === 409) {
      const current = (await this.products()).find((p) => p.sku === sku)?.priceCents;
      if (current !== priceCents)
        throw new Error(`a price change of ${sku} to ${priceCents} was refused: price ${current}`);
    } else if (answer.status !== 200)
      throw new Error(`a price change of ${sku} answered ${answer.status}`);
    this.prices.set(sku, priceCents);
    this.priceChanges.push({ correlationId, sku, priceCents, at: this.now() });
  }

  private retry<T extends { status: number }>(what: string, attempt: () => Promise<T>): Promise<T> {
    return retryUntilAnswered(what, attempt, this.failures, this.now);
  }
}
