import { HealthModule } from '@app/platform';
import { Module } from '@nestjs/common';

/** Root module of the inventory service. */
@Module({ imports: [HealthModule] })
export class InventoryModule {}
