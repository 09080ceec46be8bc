import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiAnswer, ProductBody } from '../http/openapi.js';

export interface ProductView {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
}

/** The gateway's catalog projection, fed by `product.added`. */
@Injectable()
export class CatalogProjection {
  @EventHandler('product.added', { id: 'catalog-add-product' })
  async added(event: DecodedEvent<'product.added'>, context: EventContext): Promise<void> {
    const { sku, name, priceCents, currency } = event.data;
    await context.manager.query(
      `INSERT INTO catalog_products (sku, name, price_cents, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, price_cents = EXCLUDED.price_cents,
         currency = EXCLUDED.currency, updated_at = now()`,
      [sku, name, priceCents, currency],
    );
  }
}

@ApiTags('catalog')
@Controller('products')
export class ProductsController {
  constructor(private readonly dataSource: DataSource) {}

  /** `GET /products` -> the catalog, by SKU. */
  @Get()
  @ApiAnswer('List the catalog', 200, 'Every product, by SKU', [ProductBody])
  async list(): Promise<ProductView[]> {
    const rows = await this.dataSource.query<
      { sku: string; name: string; price_cents: number; currency: string }[]
    >(`SELECT sku, name, price_cents, currency FROM catalog_products ORDER BY sku`);
    return rows.map((row) => ({
      sku: row.sku,
      name: row.name,
      priceCents: row.price_cents,
      currency: row.currency,
    }));
  }
}
