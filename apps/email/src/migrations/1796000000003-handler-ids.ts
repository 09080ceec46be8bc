import { type InboxConsumerRenames, inboxConsumerRenames } from '@app/messaging';

/**
 * The inbox keys email's handlers had before they declared ids (`<service>:<Class>.<method>`),
 * and the `<service>:<id>` each became. Frozen: these are the keys of the release before,
 * whatever the classes are called now.
 */
export const EMAIL_FORMER_HANDLER_KEYS: InboxConsumerRenames = {
  'email:NotificationHandlers.welcome': 'email:welcome-email',
  'email:NotificationHandlers.orderConfirmed': 'email:order-confirmed-email',
  'email:NotificationHandlers.paymentReceived': 'email:payment-received-email',
  'email:NotificationHandlers.orderRejected': 'email:order-rejected-email',
  'email:NotificationHandlers.orderCancelled': 'email:order-cancelled-email',
  'email:RecipientDirectory.remember': 'email:remember-recipient',
};

/** Carries the events email's handlers handled under their former keys over to their ids. */
export const EmailHandlerIds1796000000003 = inboxConsumerRenames(
  'EmailHandlerIds1796000000003',
  EMAIL_FORMER_HANDLER_KEYS,
);
