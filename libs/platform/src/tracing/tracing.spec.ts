import { describe, expect, it } from '@jest/globals';
import { contextFrom, enableTracePropagation, inSpan, traceparentOf } from './tracing.js';

describe('inSpan without an exporter', () => {
  enableTracePropagation();
  const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it("runs the work in the parent's context, so the parent's traceparent travels on", async () => {
    const seen = await inSpan('handle', { parent: contextFrom(incoming) }, async (span) => {
      expect(span.isRecording()).toBe(false);
      return traceparentOf();
    });
    expect(seen).toBe(incoming);
    expect(traceparentOf()).toBeUndefined(); // and only inside the work
  });

  it('nests: an inner span without a parent of its own keeps the outer context', async () => {
    const seen = await inSpan('process', { parent: contextFrom(incoming) }, () =>
      inSpan('handler', {}, () => Promise.resolve(traceparentOf())),
    );
    expect(seen).toBe(incoming);
  });

  it('rethrows what the work throws', async () => {
    await expect(
      inSpan('failing', {}, () => Promise.reject(new Error('handler failed'))),
    ).rejects.toThrow('handler failed');
  });
});
