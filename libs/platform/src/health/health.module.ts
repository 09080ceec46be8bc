import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';

/** Liveness only; services with dependencies declare `HealthController` with `READINESS_CHECKS`. */
@Module({ imports: [TerminusModule], controllers: [HealthController] })
export class HealthModule {}
