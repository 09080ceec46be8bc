import { type AdminProductView } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type ProductState } from './catalog-decision.js';

interface ProductRow {
  sku: string;
  name: string;
  price_cents: number;
  currency: string;
  version: number;
  discontinued: boolean;
  on_hand: number;
  reserved: number;
}

const SELECT = `SELECT p.sku, p.name, p.price_cents, p.currency, p.version,
         p.discontinued_at IS NOT NULL AS discontinued, s.on_hand, s.reserved
    FROM products p JOIN stock s USING (sku)`;

const toView = (row: ProductRow): AdminProductView => ({
  sku: row.sku,
  name: row.name,
  priceCents: row.price_cents,
  currency: row.currency,
  version: row.version,
  discontinued: row.discontinued,
  onHand: row.on_hand,
  reserved: row.reserved,
  available: row.on_hand - row.reserved,
});

/** The `products` table (its only owner): the catalog as inventory keeps it. */
@Injectable()
export class Products {
  /** Adds a product at version 1; false when the SKU exists already. */
  async insert(
    manager: EntityManager,
    product: { sku: string; name: string; priceCents: number; currency: string },
  ): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO products (sku, name, price_cents, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku) DO NOTHING RETURNING sku`,
      [product.sku, product.name, product.priceCents, product.currency],
    );
    return rows.length > 0;
  }

  /** Takes the product's row lock and returns it with its currency; undefined when unknown. */
  async lock(
    manager: EntityManager,
    sku: string,
  ): Promise<(ProductState & { currency: string }) | undefined> {
    const [row] = await manager.query<
      {
        name: string;
        price_cents: number;
        currency: string;
        version: number;
        discontinued: boolean;
      }[]
    >(
      `SELECT name, price_cents, currency, version, discontinued_at IS NOT NULL AS discontinued
         FROM products WHERE sku = $1 FOR UPDATE`,
      [sku],
    );
    return row
      ? {
          name: row.name,
          priceCents: row.price_cents,
          currency: row.currency,
          version: row.version,
          discontinued: row.discontinued,
        }
      : undefined;
  }

  /** Stores the product as `decide*` returned it. */
  async save(manager: EntityManager, sku: string, product: ProductState): Promise<void> {
    await manager.query(
      `UPDATE products SET name = $2, price_cents = $3, version = $4, updated_at = now(),
         discontinued_at = CASE WHEN $5::boolean THEN coalesce(discontinued_at, now()) END
       WHERE sku = $1`,
      [sku, product.name, product.priceCents, product.version, product.discontinued],
    );
  }

  /** True when the SKU is in the catalog (discontinued or not). */
  async exists(manager: EntityManager, sku: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(`SELECT 1 FROM products WHERE sku = $1`, [sku]);
    return rows.length > 0;
  }

  /** Every product with its stock, by SKU. */
  async list(manager: EntityManager): Promise<AdminProductView[]> {
    return (await manager.query<ProductRow[]>(`${SELECT} ORDER BY sku`)).map(toView);
  }

  /** One product with its stock. */
  async find(manager: EntityManager, sku: string): Promise<AdminProductView | undefined> {
    const [row] = await manager.query<ProductRow[]>(`${SELECT} WHERE sku = $1`, [sku]);
    return row ? toView(row) : undefined;
  }
}
