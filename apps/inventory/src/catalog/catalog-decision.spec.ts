import { describe, expect, it } from '@jest/globals';
import {
  CatalogError,
  decideDiscontinue,
  decideProductChange,
  decideStockAdjustment,
  type ProductState,
} from './catalog-decision.js';

const lamp: ProductState = {
  name: 'Desk lamp',
  priceCents: 4_500,
  version: 3,
  discontinued: false,
};

/** The code of the `CatalogError` that `decide` throws. */
function refusal(decide: () => unknown): string {
  try {
    decide();
  } catch (error) {
    if (error instanceof CatalogError) return error.code;
    throw error;
  }
  throw new Error('the command was not refused');
}

describe('catalog decisions', () => {
  describe('changing a product', () => {
    it('given a product, when its price changes, then it is at the next version with the new price', () => {
      expect(decideProductChange('LAMP', lamp, { priceCents: 4_900 })).toEqual({
        ...lamp,
        priceCents: 4_900,
        version: 4,
      });
    });

    it('given a product, when its name changes, then the price stays', () => {
      expect(decideProductChange('LAMP', lamp, { name: 'Lamp' })).toMatchObject({
        name: 'Lamp',
        priceCents: 4_500,
      });
    });

    it('given a product, when nothing differs, then it is refused as no change', () => {
      expect(refusal(() => decideProductChange('LAMP', lamp, { priceCents: 4_500 }))).toBe(
        'CATALOG.NO_CHANGE',
      );
    });

    it('given a discontinued product, when its price changes, then it is refused', () => {
      const gone = { ...lamp, discontinued: true };
      expect(refusal(() => decideProductChange('LAMP', gone, { priceCents: 1 }))).toBe(
        'CATALOG.DISCONTINUED',
      );
    });
  });

  describe('discontinuing', () => {
    it('given a product, when it is discontinued, then it is, at the next version', () => {
      expect(decideDiscontinue('LAMP', lamp)).toEqual({ ...lamp, discontinued: true, version: 4 });
    });

    it('given a discontinued product, when it is discontinued again, then it is refused', () => {
      expect(refusal(() => decideDiscontinue('LAMP', { ...lamp, discontinued: true }))).toBe(
        'CATALOG.DISCONTINUED',
      );
    });
  });

  describe('adjusting stock', () => {
    const stock = { onHand: 10, reserved: 4 };

    it('given stock, when goods are received, then on hand grows and reservations stay', () => {
      expect(decideStockAdjustment('LAMP', stock, { reason: 'received', change: 5 })).toEqual({
        onHand: 15,
        reserved: 4,
      });
    });

    it('given stock, when damaged goods are written off down to what is reserved, then that is allowed', () => {
      expect(decideStockAdjustment('LAMP', stock, { reason: 'damaged', change: -6 })).toEqual({
        onHand: 4,
        reserved: 4,
      });
    });

    it('given stock, when a correction would go below what is reserved, then it is refused', () => {
      expect(
        refusal(() =>
          decideStockAdjustment('LAMP', stock, { reason: 'count-correction', change: -7 }),
        ),
      ).toBe('CATALOG.BELOW_RESERVED');
    });

    it('given stock, when received goods are negative or damaged ones positive, then it is refused', () => {
      expect(
        refusal(() => decideStockAdjustment('LAMP', stock, { reason: 'received', change: -1 })),
      ).toBe('CATALOG.WRONG_SIGN');
      expect(
        refusal(() => decideStockAdjustment('LAMP', stock, { reason: 'damaged', change: 1 })),
      ).toBe('CATALOG.WRONG_SIGN');
    });

    it('given stock, when the change is zero, then there is nothing to record', () => {
      expect(
        refusal(() =>
          decideStockAdjustment('LAMP', stock, { reason: 'count-correction', change: 0 }),
        ),
      ).toBe('CATALOG.NO_CHANGE');
    });
  });
});
