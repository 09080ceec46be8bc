#!/usr/bin/env node
// node scripts/build-if-stale.mjs: builds the four services (npm run build) only when dist is
// missing or older than a source of the apps and libs, or than the build configuration. The
// launcher (npm start) and the end-to-end tests use it, so an unchanged tree starts at once.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVICES = ['users', 'inventory', 'email', 'orders'];
const CONFIG_FILES = ['tsconfig.json', 'nest-cli.json', 'package-lock.json'];

/** The built entry point of a service. */
export const entryOf = (service) =>
  join(root, 'dist', 'apps', service, 'apps', service, 'src', 'main.js');

/** Why dist must be built again, or undefined when it is up to date. */
export function staleReason() {
  const built = SERVICES.map(entryOf);
  const missing = built.find((file) => !existsSync(file));
  if (missing) return `${missing} is missing`;
  const builtAt = Math.min(...built.map((file) => statSync(file).mtimeMs));
  const newer = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = newer(path);
        if (found) return found;
      } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > builtAt) return path;
    }
    return undefined;
  };
  const source =
    newer(join(root, 'apps')) ??
    newer(join(root, 'libs')) ??
    CONFIG_FILES.map((file) => join(root, file)).find(
      (file) => existsSync(file) && statSync(file).mtimeMs > builtAt,
    );
  return source ? `${source} changed since the last build` : undefined;
}

/** Runs `npm run build` when dist is stale, saying why; true when it built. */
export function buildIfStale(log = (line) => console.log(line)) {
  const reason = staleReason();
  if (!reason) return false;
  log(`[build] building the services: ${reason}`);
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) buildIfStale();
