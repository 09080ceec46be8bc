import { HealthModule } from '@app/platform';
import { Module } from '@nestjs/common';

/** Root module of the users service. */
@Module({ imports: [HealthModule] })
export class UsersModule {}
