import { Controller, Get } from '@nestjs/common';

/** Liveness: answers while the event loop runs; checks no dependency by design. */
@Controller('health')
export class HealthController {
  /** `GET /health/live`: the process is up. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
