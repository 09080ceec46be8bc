import {
  type Attributes,
  context,
  INVALID_SPAN_CONTEXT,
  type Context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type SpanProcessor, type TracerProvider } from '@opentelemetry/sdk-trace';

const TRACER = 'commerce';
let propagationReady = false;
let provider: TracerProvider | undefined;

/** W3C trace context and async context propagation: always on, whether spans are exported or not. */
export function enableTracePropagation(): void {
  if (propagationReady) return;
  propagationReady = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/**
 * Starts tracing for a service: spans exported over OTLP/HTTP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` is set, off otherwise (the `traceparent` is still carried).
 * The SDK, the exporter and their dependencies are loaded only then: without an exporter a
 * service does not hold them in memory.
 */
export async function startTracing(service: string, processors?: SpanProcessor[]): Promise<void> {
  enableTracePropagation();
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (provider || (!processors?.length && !endpoint)) return;
  const [{ BatchSpanProcessor, TracerProvider }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
  ]);
  let spanProcessors = processors;
  if (!spanProcessors?.length) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors = [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${endpoint!.replace(/\/$/, '')}/v1/traces` }),
      }),
    ];
  }
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
}

/** Flushes and stops span export (at shutdown). */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
}

/** The `traceparent` of the active span (or of the context given), if any. */
export function traceparentOf(active: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent;
}

/** The context a `traceparent` continues (the active one when absent). */
export function contextFrom(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(context.active(), { traceparent }) : context.active();
}

/**
 * Runs `work` in a new span, child of `parent`, ended with an error status if `work` throws.
 * Without an exporter there is no span: `work` runs in the parent's context.
 */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!provider) {
    // Nothing records spans: a span would be a non-recording copy of its parent. Skip it
    // (two fewer objects and one fewer context switch per handled message), and carry the
    // parent's context, so the traceparent still travels with the events.
    const parent = options.parent ?? context.active();
    const span = trace.getSpan(parent) ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    return parent === context.active() ? work(span) : context.with(parent, () => work(span));
  }
  const tracer = trace.getTracer(TRACER);
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    options.parent ?? context.active(),
  );
  return context.with(trace.setSpan(options.parent ?? context.active(), span), async () => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

export { SpanKind };
