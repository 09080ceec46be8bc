import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { EVENT_TYPES } from '../catalog.js';
import { EVENT_FLOWS } from '../system.js';
import { buildAsyncApiDocument, consumersInDocument } from './asyncapi-document.js';

// @stoplight/types DiagnosticSeverity.Error; the enum comes in two copies, so compare the number.
const SEVERITY_ERROR = 0;
const file = join(import.meta.dirname, '..', '..', 'asyncapi.yaml');
const text = readFileSync(file, 'utf8');

describe('libs/events/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.1 document according to @asyncapi/parser', async () => {
    const { document, diagnostics } = await new Parser().parse(text);
    const errors = diagnostics
      .filter((d) => Number(d.severity) === SEVERITY_ERROR)
      .map((d) => `${d.path.join('.')}: ${d.message}`);
    expect(errors).toEqual([]);
    expect(document?.version()).toBe('3.1.0');
    expect(document?.channels().length).toBe(EVENT_TYPES.length);
  });

  it('is in step with the catalog and EVENT_FLOWS (else run npm run events:schemas)', () => {
    expect(parse(text)).toEqual(buildAsyncApiDocument());
  });

  it('records exactly the consumers the messaging core uses for mandatory publishing', () => {
    const consumers = consumersInDocument(parse(text) as Record<string, unknown>);
    for (const type of EVENT_TYPES) {
      expect([type, [...(consumers[type] ?? [])].sort()]).toEqual([
        type,
        [...EVENT_FLOWS[type].consumers].sort(),
      ]);
    }
  });
});
