import { type InboxConsumerRenames, inboxConsumerRenames } from '@app/messaging';

/**
 * The inbox keys inventory's handlers had before they declared ids (`<service>:<Class>.<method>`),
 * and the `<service>:<id>` each became. Frozen: these are the keys of the release before,
 * whatever the classes are called now.
 */
export const INVENTORY_FORMER_HANDLER_KEYS: InboxConsumerRenames = {
  'inventory:ReserveStockHandler.reserve': 'inventory:reserve-stock',
  'inventory:SellStockHandler.sell': 'inventory:sell-stock',
  'inventory:ReleaseStockHandler.release': 'inventory:release-cancelled',
  'inventory:ReleaseStockHandler.releaseRejected': 'inventory:release-rejected',
};

/** Carries the events inventory's handlers handled under their former keys over to their ids. */
export const InventoryHandlerIds1796000000002 = inboxConsumerRenames(
  'InventoryHandlerIds1796000000002',
  INVENTORY_FORMER_HANDLER_KEYS,
);
