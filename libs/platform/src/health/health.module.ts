import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';

/** Liveness only; services with dependencies declare `HealthController` with `READINESS_CHECKS`. */
@Module({ controllers: [HealthController] })
export class HealthModule {}
