import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_EVENT_VERSIONS } from './catalog.js';
import { jsonSchemaOf } from './json-schema.js';
import { breakingChanges } from './versioning/compatibility.js';

const root = join(import.meta.dirname, '..');
const checkedIn = (file: string) =>
  JSON.parse(readFileSync(join(root, file), 'utf8')) as Record<string, unknown>;

describe('checked-in JSON Schemas', () => {
  it.each(ALL_EVENT_VERSIONS.map((d) => [d.schemaFile, d] as const))(
    '%s is compatible with the released version (a new version is the way to change a shape)',
    (file, definition) => {
      expect(breakingChanges(checkedIn(file), jsonSchemaOf(definition))).toEqual([]);
    },
  );

  it.each(ALL_EVENT_VERSIONS.map((d) => [d.schemaFile, d] as const))(
    '%s is in step with its TypeScript definition (else run npm run events:schemas)',
    (file, definition) => {
      expect(checkedIn(file)).toEqual(jsonSchemaOf(definition));
    },
  );

  it('has a file for every version and no file without a version', () => {
    const files = readdirSync(join(root, 'schemas'))
      .map((name) => `schemas/${name}`)
      .sort();
    expect(files).toEqual(ALL_EVENT_VERSIONS.map((d) => d.schemaFile).sort());
  });
});

describe('breakingChanges', () => {
  const released = {
    type: 'object',
    required: ['orderId', 'items'],
    properties: {
      orderId: { type: 'string', format: 'uuid' },
      note: { type: 'string' },
      items: {
        type: 'array',
        items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } },
      },
    },
  };
  const clone = () => JSON.parse(JSON.stringify(released)) as typeof released;

  it('accepts an identical schema and a new optional field', () => {
    const next = clone();
    (next.properties as Record<string, unknown>).extra = { type: 'integer' };
    expect(breakingChanges(released, next)).toEqual([]);
  });

  it('flags a removed field', () => {
    const next = clone();
    delete (next.properties as Partial<typeof next.properties>).note;
    expect(breakingChanges(released, next)).toEqual(['/note removed']);
  });

  it('flags a retyped field, also inside array items', () => {
    const next = clone();
    next.properties.items.items.properties.sku.type = 'integer';
    expect(breakingChanges(released, next)).toEqual([
      '/items/items/sku retyped from "string" to "integer"',
    ]);
  });

  it('flags a newly required field and a changed format', () => {
    const next = clone();
    next.required.push('note');
    (next.properties.orderId as { format: string }).format = 'email';
    expect(breakingChanges(released, next)).toEqual([
      '/orderId format changed from "uuid" to "email"',
      '/note is newly required',
    ]);
  });
});
