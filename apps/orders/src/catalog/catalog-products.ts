import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';

export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}

interface ProductRow {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
}

const toView = (row: ProductRow): ProductView => ({
  sku: row.sku,
  name: row.name,
  priceCents: row.price_cents,
  currency: row.currency,
});

/**
 * The gateway's catalog projection (`catalog_products`, its only owner): written from
 * inventory's product events, read to list the catalog and to price an order. Every method
 * takes the manager of the caller's transaction.
 */
@Injectable()
export class CatalogProducts {
  /**
   * Adds a product, or brings it to `version`: an event older than what the projection holds
   * (redelivered after a retry, say) changes nothing.
   */
  async apply(manager: EntityManager, product: ProductView, version: number): Promise<void> {
    await manager.query(
      `INSERT INTO catalog_products (sku, name, price_cents, currency, version)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price_cents = EXCLUDED.price_cents,
         currency = EXCLUDED.currency, version = EXCLUDED.version, updated_at = now()
       WHERE catalog_products.version < EXCLUDED.version`,
      [product.sku, product.name, product.priceCents, product.currency, version],
    );
  }

  /**
   * Marks a product discontinued at `version`. Arriving before the product itself, it leaves a
   * row that the older `product.added` cannot revive.
   */
  async discontinue(manager: EntityManager, sku: string, version: number): Promise<void> {
    await manager.query(
      `INSERT INTO catalog_products (sku, name, price_cents, currency, version, discontinued)
       VALUES ($1, $1, 0, 'XXX', $2, true)
       ON CONFLICT (sku) DO UPDATE SET discontinued = true, version = EXCLUDED.version,
         updated_at = now()
       WHERE catalog_products.version < EXCLUDED.version`,
      [sku, version],
    );
  }

  /** Every product, by SKU. */
  async list(manager: EntityManager): Promise<ProductView[]> {
    const rows = await manager.query<ProductRow[]>(
      `SELECT sku, name, price_cents, currency FROM catalog_products WHERE NOT discontinued
        ORDER BY sku`,
    );
    return rows.map(toView);
  }

  /** The products of these SKUs that the catalog has, by SKU, and whether each is discontinued. */
  async bySku(
    manager: EntityManager,
    skus: string[],
  ): Promise<Map<string, ProductView & { discontinued: boolean }>> {
    const rows = await manager.query<(ProductRow & { discontinued: boolean })[]>(
      `SELECT sku, name, price_cents, currency, discontinued FROM catalog_products
        WHERE sku = ANY($1)`,
      [skus],
    );
    return new Map(
      rows.map((row) => [row.sku, { ...toView(row), discontinued: row.discontinued }]),
    );
  }
}
