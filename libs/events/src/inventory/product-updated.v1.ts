import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Cents, Currency, Sku } from '../primitives.js';

/**
 * A product's name or price changed (producer: inventory); carries the product as it now is.
 * Its `streamversion` is the product's version: a projection applies it only over an older one.
 */
export const ProductUpdatedV1 = defineEvent(
  'product.updated',
  1,
  Type.Object({
    sku: Sku(),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    priceCents: Cents('Unit price in minor units, for orders placed from now on'),
    currency: Currency(),
  }),
);
export type ProductUpdatedV1Data = EventData<typeof ProductUpdatedV1>;
