import { type DecodedEvent, SchemaViolationError } from '@app/events';
import { type EventContext, EventHandler } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { CatalogProducts } from './catalog-products.js';

/**
 * The gateway's catalog projection, fed by inventory's product events. Each carries the
 * product's version as its `streamversion`; the projection keeps the newest it has seen.
 */
@Injectable()
export class CatalogProjection {
  constructor(private readonly products: CatalogProducts) {}

  @EventHandler('product.added', { id: 'catalog-add-product' })
  async added(event: DecodedEvent<'product.added'>, context: EventContext): Promise<void> {
    const { sku, name, priceCents, currency } = event.data;
    await this.products.apply(
      context.manager,
      { sku, name, priceCents, currency },
      event.envelope.streamversion ?? 1,
    );
  }

  @EventHandler('product.updated', { id: 'catalog-update-product' })
  async updated(event: DecodedEvent<'product.updated'>, context: EventContext): Promise<void> {
    const { sku, name, priceCents, currency } = event.data;
    await this.products.apply(
      context.manager,
      { sku, name, priceCents, currency },
      versionOf(event),
    );
  }

  @EventHandler('product.discontinued', { id: 'catalog-discontinue-product' })
  async discontinued(
    event: DecodedEvent<'product.discontinued'>,
    context: EventContext,
  ): Promise<void> {
    await this.products.discontinue(context.manager, event.data.sku, versionOf(event));
  }
}

/** A product event's version; inventory always sets it (a missing one is a producer bug). */
function versionOf(event: DecodedEvent<'product.updated' | 'product.discontinued'>): number {
  const version = event.envelope.streamversion;
  if (version === undefined)
    throw new SchemaViolationError(
      `${event.type} ${event.envelope.id} has no streamversion; inventory sets the product's version on every product event.`,
    );
  return version;
}
