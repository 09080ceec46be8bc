import { Controller, Get, Inject, Optional, ServiceUnavailableException } from '@nestjs/common';

/** One dependency readiness depends on. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<boolean> | boolean;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** `GET /health/live` (no dependency checks) and `GET /health/ready` (the service's checks). */
@Controller('health')
export class HealthController {
  constructor(
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
  ) {}

  /** The process is up; checks no dependency by design. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Every readiness check passes, else 503 naming the ones that fail. */
  @Get('ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, 'up'> }> {
    const results = await Promise.all(
      this.checks.map(
        async (c) => [c.name, await Promise.resolve(c.check()).catch(() => false)] as const,
      ),
    );
    const down = results.filter(([, up]) => !up).map(([name]) => name);
    if (down.length)
      throw new ServiceUnavailableException(`Not ready: ${down.join(', ')} unavailable.`);
    return {
      status: 'ok',
      checks: Object.fromEntries(results.map(([name]) => [name, 'up' as const])),
    };
  }
}
