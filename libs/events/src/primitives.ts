import { Type } from '@sinclair/typebox';

/** Shared field shapes, so every event spells an id, a SKU or an amount the same way. */
export const Uuid = (description: string) => Type.String({ format: 'uuid', description });
export const Sku = () =>
  Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'Stock keeping unit' });
export const Quantity = () => Type.Integer({ minimum: 1, maximum: 1_000_000 });
export const Cents = (description: string) => Type.Integer({ minimum: 0, description });
export const Currency = () =>
  Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' });
export const SkuList = (description: string) => Type.Array(Sku(), { description });
export const SkuQuantities = () =>
  Type.Array(Type.Object({ sku: Sku(), quantity: Quantity() }), { minItems: 1 });
