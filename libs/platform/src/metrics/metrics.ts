import { createServer, type Server } from 'node:http';
import client from 'prom-client';

/** The process-wide Prometheus registry every service exposes on `/metrics`. */
export const metricsRegistry = client.register;
let defaultsCollected = false;

/** Starts the default process metrics (CPU, memory, event loop) once per process. */
export function collectDefaultMetrics(service: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  metricsRegistry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: metricsRegistry });
}

/** A counter, created once per process (several Nest apps may share one, as in tests). */
export function counter<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
): client.Counter<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as client.Counter<L> | undefined) ??
    new client.Counter({ name, help, labelNames })
  );
}

/** A histogram, created once per process. */
export function histogram<L extends string>(
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): client.Histogram<L> {
  return (
    (metricsRegistry.getSingleMetric(name) as client.Histogram<L> | undefined) ??
    new client.Histogram({ name, help, labelNames, buckets })
  );
}

/** A gauge whose value is read at scrape time, created once per process. */
export function gauge(
  name: string,
  help: string,
  collect?: (this: client.Gauge) => void | Promise<void>,
): client.Gauge {
  return (
    (metricsRegistry.getSingleMetric(name) as client.Gauge | undefined) ??
    new client.Gauge({ name, help, ...(collect ? { collect } : {}) })
  );
}

/** HTTP request duration, by method, route template and status. */
export const httpRequestDuration = histogram(
  'http_request_duration_seconds',
  'HTTP request duration by method, route template and status code',
  ['method', 'route', 'status'],
  [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
);

/** A tiny HTTP server for `/metrics` on an operations port, away from the public API. */
export function startOpsServer(port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') {
      void metricsRegistry.metrics().then(
        (text) => {
          response.writeHead(200, { 'content-type': metricsRegistry.contentType });
          response.end(text);
        },
        () => {
          response.writeHead(500).end();
        },
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        statusCode: 404,
        error: 'Not Found',
        message: 'Only GET /metrics is served here.',
      }),
    );
  });
  return new Promise((resolve) => server.listen(port, '0.0.0.0', () => resolve(server)));
}
