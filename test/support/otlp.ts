import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** A span as a service exported it over OTLP/HTTP (JSON), with the exporting service's name. */
export interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
}

export const OTLP_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}

interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
      }[];
    }[];
  }[];
}

/**
 * A stand-in for an OpenTelemetry collector on 127.0.0.1: it accepts `POST /v1/traces` in
 * OTLP/HTTP JSON (what `OTEL_EXPORTER_OTLP_ENDPOINT` points the services at) and keeps the spans.
 */
export class OtlpSink {
  readonly spans: ExportedSpan[] = [];
  /** Bodies it could not read, with the reason: a test should expect none. */
  readonly rejected: string[] = [];

  private server?: Server;
  private address = '';

  /** The base URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  get url(): string {
    return this.address;
  }

  static async start(): Promise<OtlpSink> {
    const sink = new OtlpSink();
    const server = createServer((request, response) => sink.receive(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sink.server = server;
    sink.address = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return sink;
  }

  /** The spans of one trace. */
  trace(traceId: string): ExportedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (request.url !== '/v1/traces') throw new Error(`unexpected path ${request.url}`);
        this.add(JSON.parse(body.toString()) as OtlpTraces);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        this.rejected.push((error as Error).message);
        response.writeHead(400).end();
      }
    });
  }

  private add(traces: OtlpTraces): void {
    for (const resourceSpans of traces.resourceSpans ?? []) {
      const service =
        resourceSpans.resource?.attributes?.find((a) => a.key === 'service.name')?.value
          .stringValue ?? '?';
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          this.spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
            name: span.name,
            kind: span.kind,
          });
        }
      }
    }
  }
}
