import { describe, expect, it } from '@jest/globals';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { Writable } from 'node:stream';
import { enableTracePropagation } from '../tracing/tracing.js';
import { withLogContext } from './log-context.js';
import { createLogger } from './logger.js';

/** A logger whose lines are collected, parsed. */
function capturing() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('orders', 'info', destination) };
}

describe('createLogger', () => {
  it('writes JSON lines with the service and the log context, and redacts secrets', () => {
    const { lines, logger } = capturing();
    withLogContext({ correlationId: 'req-1', subject: 'order-7' }, () =>
      logger.info({ body: { email: 'a@example.com', password: 'hunter2' } }, 'registered'),
    );
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'orders',
      correlationId: 'req-1',
      subject: 'order-7',
      msg: 'registered',
      body: { email: 'a@example.com', password: '[redacted]' },
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('adds the trace and span ids of the active span', () => {
    enableTracePropagation();
    const { lines, logger } = capturing();
    const span = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    });
    context.with(trace.setSpan(context.active(), span), () => logger.info('in a span'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
    });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
