import { type DecodedEvent } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { CatalogProducts } from './catalog-products.js';

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
