import { HealthModule } from '@app/platform';
import { Module } from '@nestjs/common';

/** Root module of the email service. */
@Module({ imports: [HealthModule] })
export class EmailModule {}
