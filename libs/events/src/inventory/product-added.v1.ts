import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Cents, Currency, Sku } from '../primitives.js';

/** A product entered the catalog (producer: inventory); feeds the gateway's catalog projection. */
export const ProductAddedV1 = defineEvent(
  'product.added',
  1,
  Type.Object({
    sku: Sku(),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    priceCents: Cents('Unit price in minor units'),
    currency: Currency(),
  }),
);
export type ProductAddedV1Data = EventData<typeof ProductAddedV1>;
