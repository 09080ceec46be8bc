import { type OrderPlacedV1Data } from './order-placed.v1.js';
import { type OrderPlacedV2Data } from './order-placed.v2.js';

/**
 * `order.placed` v1 -> v2: `sku = productId`, `unitPriceCents = round(price * 100)`, the total
 * in cents, and the consumer's default currency (v1 had none).
 */
export function upcastOrderPlacedV1ToV2(
  v1: OrderPlacedV1Data,
  context: { defaultCurrency: string },
): OrderPlacedV2Data {
  const items = v1.items.map((item) => ({
    sku: item.productId,
    quantity: item.quantity,
    unitPriceCents: Math.round(item.price * 100),
  }));
  return {
    orderId: v1.orderId,
    userId: v1.userId,
    items,
    totalCents: Math.round(v1.totalAmount * 100),
    currency: context.defaultCurrency,
  };
}
