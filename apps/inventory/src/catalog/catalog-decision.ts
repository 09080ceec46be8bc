import { type StockAdjustmentReason } from '@app/events';

/**
 * The catalog's and the stock's rules, as pure functions: what a command does to a product
 * or its stock, or why it is refused. `ProductCatalog` loads the state, asks, and stores.
 */

/** A product as its rules see it. */
export interface ProductState {
  name: string;
  priceCents: number;
  version: number;
  discontinued: boolean;
}

/** Stock on hand and reserved by open orders. */
export interface StockState {
  onHand: number;
  reserved: number;
}

/** Why a command is refused; the HTTP status of each is in `CATALOG_ERROR_STATUS`. */
export type CatalogErrorCode =
  | 'CATALOG.UNKNOWN_SKU'
  | 'CATALOG.DUPLICATE_SKU'
  | 'CATALOG.DISCONTINUED'
  | 'CATALOG.NO_CHANGE'
  | 'CATALOG.BELOW_RESERVED'
  | 'CATALOG.WRONG_SIGN'
  | 'CATALOG.KEY_REUSED';

export class CatalogError extends Error {
  override readonly name = 'CatalogError';

  constructor(
    readonly code: CatalogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const CATALOG_ERROR_STATUS: Record<CatalogErrorCode, number> = {
  'CATALOG.UNKNOWN_SKU': 404,
  'CATALOG.DUPLICATE_SKU': 409,
  'CATALOG.DISCONTINUED': 409,
  'CATALOG.NO_CHANGE': 409,
  'CATALOG.BELOW_RESERVED': 409,
  'CATALOG.WRONG_SIGN': 422,
  'CATALOG.KEY_REUSED': 409,
};

/** A change of name or price: the product as it becomes, at the next version. */
export function decideProductChange(
  sku: string,
  product: ProductState,
  change: { name?: string; priceCents?: number },
): ProductState {
  if (product.discontinued)
    throw new CatalogError(
      'CATALOG.DISCONTINUED',
      `${sku} is discontinued; a discontinued product cannot be changed.`,
    );
  const next = {
    ...product,
    name: change.name ?? product.name,
    priceCents: change.priceCents ?? product.priceCents,
  };
  if (next.name === product.name && next.priceCents === product.priceCents)
    throw new CatalogError(
      'CATALOG.NO_CHANGE',
      `${sku} already has this name and price; send a name or priceCents that differs.`,
    );
  return { ...next, version: product.version + 1 };
}

/** Discontinuing: no new orders; the product at the next version. */
export function decideDiscontinue(sku: string, product: ProductState): ProductState {
  if (product.discontinued)
    throw new CatalogError('CATALOG.DISCONTINUED', `${sku} is already discontinued.`);
  return { ...product, discontinued: true, version: product.version + 1 };
}

/**
 * A stock adjustment: goods `received` add, `damaged` ones remove, a `count-correction` sets
 * the count right either way. Stock on hand never falls below what open orders reserved.
 */
export function decideStockAdjustment(
  sku: string,
  stock: StockState,
  adjustment: { reason: StockAdjustmentReason; change: number },
): StockState {
  const { reason, change } = adjustment;
  if (change === 0)
    throw new CatalogError(
      'CATALOG.NO_CHANGE',
      'change must not be 0: there is nothing to record.',
    );
  if (reason === 'received' && change < 0)
    throw new CatalogError(
      'CATALOG.WRONG_SIGN',
      'Received stock adds units: change must be positive (use damaged or count-correction to remove).',
    );
  if (reason === 'damaged' && change > 0)
    throw new CatalogError(
      'CATALOG.WRONG_SIGN',
      'Damaged stock removes units: change must be negative (use received or count-correction to add).',
    );
  const onHand = stock.onHand + change;
  if (onHand < stock.reserved)
    throw new CatalogError(
      'CATALOG.BELOW_RESERVED',
      `${sku} has ${stock.onHand} on hand of which open orders reserve ${stock.reserved}; removing ${-change} would leave ${onHand}, below what is reserved. Remove at most ${stock.onHand - stock.reserved}.`,
    );
  return { onHand, reserved: stock.reserved };
}
