import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');

/** The node flags every service process runs with, as npm start and the image run them. */
export const SERVICE_NODE_FLAGS = (
  JSON.parse(readFileSync(join(root, 'scripts', 'service-node-flags.json'), 'utf8')) as {
    flags: string[];
  }
).flags;
export const SERVICES = ['users', 'inventory', 'email', 'orders'] as const;
export type Service = (typeof SERVICES)[number];

/** The built entry point of a service. */
export const entryOf = (service: Service) =>
  join(root, 'dist', 'apps', service, 'apps', service, 'src', 'main.js');

/**
 * Builds the services when dist is missing or older than a source (the launcher's check, in
 * scripts/build-if-stale.mjs, so tests and `npm start` agree on what is stale).
 */
export function ensureBuilt(): void {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-if-stale.mjs')], {
    cwd: root,
    stdio: 'inherit',
  });
}
