import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const SERVICES = ['users', 'inventory', 'email', 'orders'] as const;
export type Service = (typeof SERVICES)[number];

/** The built entry point of a service. */
export const entryOf = (service: Service) =>
  join(root, 'dist', 'apps', service, 'apps', service, 'src', 'main.js');

/** True when dist is missing or older than any source of the apps and libs. */
function buildIsStale(): boolean {
  const built = SERVICES.map(entryOf);
  if (!built.every((file) => existsSync(file))) return true;
  const builtAt = Math.min(...built.map((file) => statSync(file).mtimeMs));
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return Math.max(latest, newest(path));
      return entry.name.endsWith('.ts') ? Math.max(latest, statSync(path).mtimeMs) : latest;
    }, 0);
  return Math.max(newest(join(root, 'apps')), newest(join(root, 'libs'))) > builtAt;
}

/** Runs `npm run build` when the built services are missing or older than their sources. */
export function ensureBuilt(): void {
  if (buildIsStale()) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
