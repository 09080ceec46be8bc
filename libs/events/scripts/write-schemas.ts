// Writes libs/events/schemas/<type>.v<n>.json and libs/events/asyncapi.yaml from the catalog.
// Refuses to overwrite a released schema with a breaking change: add a new version instead.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  ALL_EVENT_VERSIONS,
  breakingChanges,
  buildAsyncApiDocument,
  jsonSchemaOf,
} from '../src/index.js';

const root = join(import.meta.dirname, '..');
mkdirSync(join(root, 'schemas'), { recursive: true });
let refused = 0;
for (const definition of ALL_EVENT_VERSIONS) {
  const file = join(root, definition.schemaFile);
  const next = jsonSchemaOf(definition);
  if (existsSync(file)) {
    const released = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const breaking = breakingChanges(released, next);
    if (breaking.length) {
      refused += 1;
      console.error(
        `${definition.schemaFile}: breaking change refused (${breaking.join('; ')}); add v${definition.version + 1} instead.`,
      );
      continue;
    }
  }
  writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`);
}
writeFileSync(join(root, 'asyncapi.yaml'), stringify(buildAsyncApiDocument(), { lineWidth: 0 }));
console.log(`wrote ${ALL_EVENT_VERSIONS.length - refused} schemas and asyncapi.yaml`);
process.exit(refused ? 1 : 0);
