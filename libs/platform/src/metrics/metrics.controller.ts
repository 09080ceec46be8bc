import { Controller, Get, Header } from '@nestjs/common';
import { metricsRegistry } from './metrics.js';

/** `GET /metrics` in the Prometheus text format (internal services only). */
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics(): Promise<string> {
    return metricsRegistry.metrics();
  }
}
