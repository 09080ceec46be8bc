import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Controller, Get, Injectable } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiAnswer, ProductBody } from '../http/openapi.js';
import { CatalogProducts, type ProductView } from './catalog-products.js';

/** The gateway's catalog projection, fed by `product.added`. */
@Injectable()
export class CatalogProjection {
  constructor(private readonly products: CatalogProducts) {}

  @EventHandler('product.added', { id: 'catalog-add-product' })
  async added(event: DecodedEvent<'product.added'>, context: EventContext): Promise<void> {
    const { sku, name, priceCents, currency } = event.data;
    await this.products.upsert(context.manager, { sku, name, priceCents, currency });
  }
}

@ApiTags('catalog')
@Controller('products')
export class ProductsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly products: CatalogProducts,
  ) {}

  /** `GET /products` -> the catalog, by SKU. */
  @Get()
  @ApiAnswer('List the catalog', 200, 'Every product, by SKU', [ProductBody])
  list(): Promise<ProductView[]> {
    return this.products.list(this.dataSource.manager);
  }
}
