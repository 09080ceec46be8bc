import { HealthModule } from '@app/platform';
import { Module } from '@nestjs/common';

/** Root module of the orders service. */
@Module({ imports: [HealthModule] })
export class OrdersModule {}
