import { type InboxConsumerRenames, inboxConsumerRenames } from '@app/messaging';

/**
 * The inbox keys orders's handlers had before they declared ids (`<service>:<Class>.<method>`),
 * and the `<service>:<id>` each became. Frozen: these are the keys of the release before,
 * whatever the classes are called now.
 */
export const ORDERS_FORMER_HANDLER_KEYS: InboxConsumerRenames = {
  'orders:CatalogProjection.added': 'orders:catalog-add-product',
  'orders:OrderSagaHandlers.reserved': 'orders:saga-stock-reserved',
  'orders:OrderSagaHandlers.reservationFailed': 'orders:saga-reservation-failed',
};

/** Carries the events orders's handlers handled under their former keys over to their ids. */
export const OrdersHandlerIds1796000000001 = inboxConsumerRenames(
  'OrdersHandlerIds1796000000001',
  ORDERS_FORMER_HANDLER_KEYS,
);
