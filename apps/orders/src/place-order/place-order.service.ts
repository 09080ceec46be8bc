import { parseIdempotencyKey } from '@app/contracts';
import { currentLogContext, SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import { ConflictException, HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { type EntityManager } from 'typeorm';
import { CatalogProducts } from '../catalog/catalog-products.js';
import { type OrderItem } from '../domain/order.js';
import { OrdersReadModel } from '../order-store/orders-read-model.js';
import { OrderError } from '../domain/order-errors.js';
import { OrderCommandService } from '../order-store/order-command.service.js';
import { IdempotencyKeys } from './idempotency-keys.js';
import { type PlaceOrderDto } from './place-order.dto.js';

/** Prices the items from the catalog projection and places the order, idempotently per key. */
@Injectable()
export class PlaceOrderService {
  constructor(
    private readonly commands: OrderCommandService,
    private readonly catalog: CatalogProducts,
    private readonly views: OrdersReadModel,
    private readonly keys: IdempotencyKeys,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
  ) {}

  /** `{orderId, status}`; the same key and body returns the same order, another body 409. */
  async place(
    userId: string,
    dto: PlaceOrderDto,
    idempotencyKey?: string,
  ): Promise<{ orderId: string; status: string }> {
    parseIdempotencyKey(idempotencyKey);
    const requestHash = createHash('sha256')
      .update(JSON.stringify(dto.items.map((i) => [i.sku, i.quantity])))
      .digest('hex');
    return this.commands.inTransaction(async (manager) => {
      const orderId = randomUUID();
      if (idempotencyKey !== undefined) {
        const replay = await this.claimKey(manager, userId, idempotencyKey, requestHash, orderId);
        if (replay) return replay;
      }
      await this.checkOpenOrders(manager, userId);
      const { items, currency } = await this.price(manager, dto);
      const state = await this.commands.executeIn(
        manager,
        { type: 'PlaceOrder', orderId, userId, items, currency },
        { correlationId: currentLogContext()?.correlationId },
      );
      return { orderId, status: state.status };
    });
  }

  /**
   * Refuses a new order while the user has `MAX_OPEN_ORDERS` open (PENDING or CONFIRMED):
   * without a cap one user could hold a product's whole stock until the payment timeout. The
   * user's orders are placed one at a time (a transaction lock), so the cap is exact.
   */
  private async checkOpenOrders(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
      `open-orders:${userId}`,
    ]);
    const open = await this.views.countOpen(manager, userId);
    if (open >= this.config.maxOpenOrders) {
      throw new HttpException(
        `You have ${open} open orders, the most allowed (MAX_OPEN_ORDERS); pay or cancel one before placing another.`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
  }

  /** Inserts the key; if it exists, the earlier order (same body) or 409 (another body). */
  private async claimKey(
    manager: EntityManager,
    userId: string,
    key: string,
    requestHash: string,
    orderId: string,
  ): Promise<{ orderId: string; status: string } | undefined> {
    const claim = await this.keys.claim(manager, { userId, key, requestHash, orderId });
    if (claim.claimed) return undefined;
    const existing = claim.earlier;
    if (!existing || existing.requestHash !== requestHash) {
      throw new ConflictException(
        'This Idempotency-Key was already used with another request body.',
      );
    }
    const order = await this.views.find(manager, userId, existing.orderId);
    return { orderId: existing.orderId, status: order?.status ?? 'PENDING' };
  }

  /** Prices from the catalog projection; the client never sends a price. */
  private async price(
    manager: EntityManager,
    dto: PlaceOrderDto,
  ): Promise<{ items: OrderItem[]; currency: string }> {
    const skus = [...new Set(dto.items.map((item) => item.sku))];
    const bySku = await this.catalog.bySku(manager, skus);
    const unknown = skus.filter((sku) => !bySku.has(sku));
    if (unknown.length)
      throw new OrderError(
        'ORDER.UNKNOWN_SKU',
        `Unknown SKU: ${unknown.join(', ')}. GET /products lists the catalog.`,
      );
    const discontinued = skus.filter((sku) => bySku.get(sku)!.discontinued);
    if (discontinued.length)
      throw new OrderError(
        'ORDER.UNKNOWN_SKU',
        `Discontinued: ${discontinued.join(', ')}; it can no longer be ordered. GET /products lists the catalog.`,
      );
    const currencies = new Set([...bySku.values()].map((product) => product.currency));
    if (currencies.size > 1) {
      throw new OrderError(
        'ORDER.MIXED_CURRENCIES',
        `Items are priced in several currencies (${[...currencies].join(', ')}); order them separately.`,
      );
    }
    const items = dto.items.map((item) => ({
      sku: item.sku,
      quantity: item.quantity,
      unitPriceCents: bySku.get(item.sku)!.priceCents,
    }));
    return { items, currency: [...currencies][0]! };
  }
}
