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
  /** Adds a product, or brings one up to date. */
  async upsert(manager: EntityManager, product: ProductView): Promise<void> {
    await manager.query(
      `INSERT INTO catalog_products (sku, name, price_cents, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price_cents = EXCLUDED.price_cents,
         currency = EXCLUDED.currency, updated_at = now()`,
      [product.sku, product.name, product.priceCents, product.currency],
    );
  }

  /** Every product, by SKU. */
  async list(manager: EntityManager): Promise<ProductView[]> {
    const rows = await manager.query<ProductRow[]>(
      `SELECT sku, name, price_cents, currency FROM catalog_products ORDER BY sku`,
    );
    return rows.map(toView);
  }

  /** The products of these SKUs that the catalog has, by SKU. */
  async bySku(manager: EntityManager, skus: string[]): Promise<Map<string, ProductView>> {
    const rows = await manager.query<ProductRow[]>(
      `SELECT sku, name, price_cents, currency FROM catalog_products WHERE sku = ANY($1)`,
      [skus],
    );
    return new Map(rows.map((row) => [row.sku, toView(row)]));
  }
}
