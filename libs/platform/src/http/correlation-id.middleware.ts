import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { withLogContext } from '../logging/log-context.js';
import { httpRequestDuration } from '../metrics/metrics.js';

export const CORRELATION_HEADER = 'x-correlation-id';
const VALID_CORRELATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The correlation id of a request: the caller's when well formed, else a new one. */
export function correlationIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && VALID_CORRELATION_ID.test(value) ? value : randomUUID();
}

/** Accepts or generates `x-correlation-id`, returns it on the response, and logs with it. */
export function correlationIdMiddleware(
  request: IncomingMessage & { correlationId?: string },
  response: ServerResponse,
  next: () => void,
): void {
  const id = correlationIdOf(request.headers[CORRELATION_HEADER]);
  request.correlationId = id;
  response.setHeader(CORRELATION_HEADER, id);
  withLogContext({ correlationId: id }, next);
}

/** One log line per HTTP request: method, path, status and duration. */
export function requestLogMiddleware(logger: { info(fields: object, message: string): void }) {
  return (
    request: IncomingMessage & { originalUrl?: string },
    response: ServerResponse,
    next: () => void,
  ): void => {
    const started = performance.now();
    response.on('finish', () => {
      const path = (request.originalUrl ?? request.url ?? '').split('?')[0];
      // The route template (`/orders/:id`), not the path, keeps the label set small.
      const route =
        (request as { route?: { path?: string }; baseUrl?: string }).route?.path ?? 'unmatched';
      httpRequestDuration.observe(
        { method: request.method ?? '?', route, status: String(response.statusCode) },
        (performance.now() - started) / 1000,
      );
      logger.info(
        {
          method: request.method,
          path,
          status: response.statusCode,
          durationMs: Math.round(performance.now() - started),
        },
        `${request.method} ${path} ${response.statusCode}`,
      );
    });
    next();
  };
}
