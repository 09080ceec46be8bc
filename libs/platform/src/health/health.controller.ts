import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOperation, ApiTags, whenApiDocs } from '@app/contracts';
import {
  HealthCheck as TerminusHealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
} from '@nestjs/terminus';

/** What a readiness check found: up or down, and what else an operator should see. */
export type ReadinessResult = boolean | { up: boolean; details?: Record<string, unknown> };

/** One dependency readiness depends on. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<ReadinessResult> | ReadinessResult;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/**
 * Terminus's `@HealthCheck()` (no caching, and its OpenAPI responses), with the OpenAPI part
 * deferred: terminus loads @nestjs/swagger whenever it is installed, and only the gateway
 * serves docs.
 */
function HealthCheck(): MethodDecorator {
  return (target, key, descriptor) => {
    TerminusHealthCheck({ noCache: true, swaggerDocumentation: false })(target, key, descriptor);
    whenApiDocs(() =>
      TerminusHealthCheck({ noCache: false, swaggerDocumentation: true })(target, key, descriptor),
    );
  };
}

/**
 * `GET /health/live` (no dependency checks) and `GET /health/ready` (the service's checks),
 * with @nestjs/terminus: 200 when all are up, else 503 naming the ones down.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
  ) {}

  /** The process is up; checks no dependency by design. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is up (checks no dependency)' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /** Every readiness check passes, else 503. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: every dependency check passes, else 503 naming those down' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.checks.map((readiness) => async () => {
        const indicator = this.indicators.check(readiness.name);
        const result = await Promise.resolve(readiness.check()).catch(() => false);
        const { up, details } = typeof result === 'boolean' ? { up: result, details: {} } : result;
        return up ? indicator.up(details) : indicator.down(details);
      }),
    );
  }
}
