import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Outbox } from './outbox/outbox.js';
import { HandlerDiscovery } from './consumer/handler-discovery.js';
import { ConfigurableMessagingModule } from './messaging.module-definition.js';
import { MessagingService } from './messaging.service.js';

/**
 * The RabbitMQ transport as a Nest module: `MessagingModule.forRoot({ service, url, ... })`
 * (or `forRootAsync`). Needs a TypeORM `DataSource` in the application (outbox and inbox).
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    HandlerDiscovery,
    MessagingService,
    {
      provide: Outbox,
      useFactory: (messaging: MessagingService) => messaging.outbox,
      inject: [MessagingService],
    },
  ],
  exports: [MessagingService, Outbox],
})
export class MessagingModule extends ConfigurableMessagingModule {}
