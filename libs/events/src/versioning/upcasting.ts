import { upcastOrderPlacedV1ToV2 } from '../orders/order-placed.upcast.js';
import { type OrderPlacedV1Data } from '../orders/order-placed.v1.js';

/** What an upcaster may know beyond the old payload. */
export interface UpcastContext {
  /** ISO 4217 currency assumed for payloads that predate the currency field. */
  defaultCurrency: string;
}

/** Turns the payload of `type` at `fromVersion` into the payload at `fromVersion + 1`. */
export interface Upcaster {
  type: string;
  fromVersion: number;
  upcast(data: unknown, context: UpcastContext): unknown;
}

/** Every upcaster; the registry chains them from the received version to the latest. */
export const UPCASTERS: readonly Upcaster[] = [
  {
    type: 'order.placed',
    fromVersion: 1,
    // The registry validates against the v1 schema before calling it.
    upcast: (data, context) => upcastOrderPlacedV1ToV2(data as OrderPlacedV1Data, context),
  },
];
