import { type ReadinessCheck, type ServiceConfig } from '@app/platform';
import { type MessagingOptions, type MessagingService } from '@app/messaging';

/** The messaging options of a service, from its validated configuration (docs/contract.md section 7). */
export function messagingOptionsFrom(config: ServiceConfig): MessagingOptions {
  return {
    service: config.service,
    url: config.amqpUrl,
    queueType: config.queueType,
    prefetch: config.prefetch,
    deliveryLimit: config.deliveryLimit,
    retryDelaysMs: config.retryDelaysMs,
    retryDelayLabels: config.retryDelayLabels,
    handlerTimeoutMs: config.handlerTimeoutMs,
    defaultCurrency: config.defaultCurrency,
  };
}

/**
 * Ready while connected to RabbitMQ and consuming every queue. The details name the queues
 * not consumed (a refused permission, say) and a blocked publisher (an alarm: the service
 * still consumes and commits, its events wait in the outbox, so that alone is not unready).
 */
export function brokerCheck(messaging: MessagingService): ReadinessCheck {
  return {
    name: 'broker',
    check: () => ({ up: messaging.isBrokerReady(), details: messaging.brokerDetails() }),
  };
}
