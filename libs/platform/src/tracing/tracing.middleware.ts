import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type IncomingMessage, type ServerResponse } from 'node:http';

/** One SERVER span per HTTP request, continuing the caller's `traceparent` when given. */
export function tracingMiddleware(
  request: IncomingMessage & { originalUrl?: string; route?: { path?: string } },
  response: ServerResponse,
  next: () => void,
): void {
  const parent = propagation.extract(context.active(), request.headers);
  const path = (request.originalUrl ?? request.url ?? '').split('?')[0];
  const span = trace.getTracer('commerce').startSpan(
    `${request.method} ${path}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method ?? '', 'url.path': path },
    },
    parent,
  );
  response.on('finish', () => {
    const route = request.route?.path;
    if (route) span.updateName(`${request.method} ${route}`).setAttribute('http.route', route);
    span.setAttribute('http.response.status_code', response.statusCode);
    if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
}
