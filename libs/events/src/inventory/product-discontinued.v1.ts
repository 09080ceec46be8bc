import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Sku } from '../primitives.js';

/**
 * A product left the catalog (producer: inventory): no new order may hold it; orders already
 * placed proceed. Its `streamversion` is the product's version.
 */
export const ProductDiscontinuedV1 = defineEvent(
  'product.discontinued',
  1,
  Type.Object({ sku: Sku() }),
);
export type ProductDiscontinuedV1Data = EventData<typeof ProductDiscontinuedV1>;
