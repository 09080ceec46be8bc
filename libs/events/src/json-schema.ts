import { type EventDefinition } from './event-definition.js';

/** JSON Schema dialect of the checked-in schemas (Ajv's default). */
export const JSON_SCHEMA_DIALECT = 'http://json-schema.org/draft-07/schema#';

/** The stable identifier of one event version's schema; also the CloudEvents `dataschema`. */
export function schemaIdOf(type: string, version: number): string {
  return `urn:commerce:event:${type}:v${version}`;
}

/** The checked-in JSON Schema document of one event version (`schemas/<type>.v<n>.json`). */
export function jsonSchemaOf(definition: EventDefinition): Record<string, unknown> {
  // JSON round trip drops TypeBox's symbol keys, leaving plain JSON Schema.
  const body = JSON.parse(JSON.stringify(definition.schema)) as Record<string, unknown>;
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: schemaIdOf(definition.type, definition.version),
    title: `${definition.type} v${definition.version}`,
    ...body,
  };
}
