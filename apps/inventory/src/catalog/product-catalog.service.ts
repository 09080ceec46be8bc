import {
  type AddProductDto,
  type AdjustStockDto,
  type AdminProductView,
  type StockAdjustmentView,
  type UpdateProductDto,
} from '@app/contracts';
import { Outbox } from '@app/messaging';
import {
  currentLogContext,
  isUniqueViolation,
  SERVICE_CONFIG,
  type ServiceConfig,
  transaction,
} from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { insertStock, lockStock, setOnHand } from '../stock/stock.repository.js';
import {
  CatalogError,
  decideDiscontinue,
  decideProductChange,
  decideStockAdjustment,
  type ProductState,
} from './catalog-decision.js';
import { Products } from './products.js';
import { StockAdjustments } from './stock-adjustments.js';

/**
 * The catalog's commands: each loads what it changes under its row lock, asks the pure rules
 * of `catalog-decision.ts`, stores the outcome and enqueues its event in the same transaction
 * (the transactional outbox), so a product change is announced exactly when it commits. Used
 * by the admin endpoints and by the development seed alike.
 */
@Injectable()
export class ProductCatalog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly products: Products,
    private readonly adjustments: StockAdjustments,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<ServiceConfig, 'handlerTimeoutMs'>,
  ) {}

  /** Adds a product with its first stock: `product.added`, and `stock.adjusted` for the stock. */
  add(dto: AddProductDto, actor: string): Promise<AdminProductView> {
    return this.inTransaction(async (manager) => {
      const product = {
        sku: dto.sku,
        name: dto.name.trim(),
        priceCents: dto.priceCents,
        currency: dto.currency,
      };
      if (!(await this.products.insert(manager, product)))
        throw new CatalogError(
          'CATALOG.DUPLICATE_SKU',
          `${dto.sku} is in the catalog already; change it with PATCH instead.`,
        );
      await insertStock(manager, dto.sku, 0);
      await this.outbox.enqueue(manager, 'product.added', product, this.metadata(dto.sku, 1));
      if (dto.initialStock > 0)
        await this.adjust(
          manager,
          dto.sku,
          { reason: 'received', change: dto.initialStock },
          actor,
        );
      return (await this.products.find(manager, dto.sku))!;
    });
  }

  /** Changes a product's name or price: `product.updated` at its next version. */
  update(sku: string, dto: UpdateProductDto): Promise<AdminProductView> {
    return this.change(sku, (product) =>
      decideProductChange(sku, product, {
        ...(dto.name !== undefined ? { name: dto.name.trim() } : {}),
        ...(dto.priceCents !== undefined ? { priceCents: dto.priceCents } : {}),
      }),
    );
  }

  /** Discontinues a product: `product.discontinued`; orders already placed proceed. */
  discontinue(sku: string): Promise<AdminProductView> {
    return this.change(sku, (product) => decideDiscontinue(sku, product));
  }

  /**
   * Receives or corrects stock: recorded with its actor and reason, and `stock.adjusted`. With
   * an Idempotency-Key, a retry of an adjustment that committed answers the recorded one
   * instead of adjusting again; the key with another SKU, reason or change is refused.
   */
  async adjustStock(
    sku: string,
    dto: AdjustStockDto,
    actor: string,
    idempotencyKey?: string,
  ): Promise<StockAdjustmentView> {
    const attempt = () =>
      this.inTransaction(async (manager) => {
        if (idempotencyKey !== undefined) {
          const earlier = await this.adjustments.byKey(manager, idempotencyKey);
          if (earlier) return replayOf(earlier, sku, dto);
        }
        // An unknown SKU has no stock row: `adjust` finds none to lock and says so.
        return this.adjust(manager, sku, dto, actor, idempotencyKey);
      });
    try {
      return await attempt();
    } catch (error) {
      // The same key, sent twice at once: the second insert met the first's row.
      if (idempotencyKey !== undefined && isUniqueViolation(error)) return attempt();
      throw error;
    }
  }

  list(): Promise<AdminProductView[]> {
    return this.products.list(this.dataSource.manager);
  }

  async adjustmentsOf(sku: string): Promise<StockAdjustmentView[]> {
    const manager = this.dataSource.manager;
    if (!(await this.products.exists(manager, sku))) throw unknownSku(sku);
    return this.adjustments.ofSku(manager, sku);
  }

  private change(
    sku: string,
    decide: (product: ProductState) => ProductState,
  ): Promise<AdminProductView> {
    return this.inTransaction(async (manager) => {
      const current = await this.products.lock(manager, sku);
      if (!current) throw unknownSku(sku);
      const next = decide(current);
      await this.products.save(manager, sku, next);
      const metadata = this.metadata(sku, next.version);
      if (next.discontinued && !current.discontinued)
        await this.outbox.enqueue(manager, 'product.discontinued', { sku }, metadata);
      else
        await this.outbox.enqueue(
          manager,
          'product.updated',
          { sku, name: next.name, priceCents: next.priceCents, currency: current.currency },
          metadata,
        );
      return (await this.products.find(manager, sku))!;
    });
  }

  private async adjust(
    manager: EntityManager,
    sku: string,
    dto: Pick<AdjustStockDto, 'reason' | 'change' | 'note'>,
    actor: string,
    idempotencyKey?: string,
  ): Promise<StockAdjustmentView> {
    const stock = await lockStock(manager, sku);
    if (!stock) throw unknownSku(sku);
    const next = decideStockAdjustment(sku, stock, dto);
    await setOnHand(manager, sku, next.onHand);
    const metadata = this.metadata(sku);
    const recorded = await this.adjustments.record(manager, {
      sku,
      reason: dto.reason,
      change: dto.change,
      onHand: next.onHand,
      actor,
      note: dto.note,
      correlationId: metadata.correlationId,
      idempotencyKey,
    });
    await this.outbox.enqueue(
      manager,
      'stock.adjusted',
      { sku, reason: dto.reason, change: dto.change, onHand: next.onHand, reserved: next.reserved },
      metadata,
    );
    return recorded;
  }

  /** The product's events have the SKU as subject; product events carry its version. */
  private metadata(sku: string, streamVersion?: number) {
    return { subject: sku, streamVersion, correlationId: currentLogContext()?.correlationId };
  }

  private inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return transaction(this.dataSource, work, { timeoutMs: this.config.handlerTimeoutMs });
  }
}

/** The adjustment an Idempotency-Key recorded, when the retry asks for the same one. */
function replayOf(earlier: StockAdjustmentView, sku: string, dto: AdjustStockDto) {
  if (earlier.sku !== sku || earlier.reason !== dto.reason || earlier.change !== dto.change)
    throw new CatalogError(
      'CATALOG.KEY_REUSED',
      'This Idempotency-Key was already used for another stock adjustment; use a new key for a new adjustment.',
    );
  return earlier;
}

function unknownSku(sku: string): CatalogError {
  return new CatalogError(
    'CATALOG.UNKNOWN_SKU',
    `${sku} is not in the catalog; GET /admin/products lists it.`,
  );
}
