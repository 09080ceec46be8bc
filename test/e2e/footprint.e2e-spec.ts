import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureBuilt, entryOf, root, SERVICES, type Service } from '../support/build.js';

/**
 * The packages a built service's module graph loads: a fresh process imports its Nest module
 * (no bootstrap) with a resolve hook that records every bare specifier.
 */
function packagesLoadedBy(service: Service): Set<string> {
  const module = pathToFileURL(join(entryOf(service), '..', `${service}.module.js`)).href;
  const hook = `data:text/javascript,${encodeURIComponent(`
    import { registerHooks } from 'node:module';
    globalThis.loadedPackages = new Set();
    registerHooks({
      resolve(specifier, context, next) {
        const bare = /^(@[^/]+\\/[^/]+|[^./][^/:]*)/.exec(specifier);
        if (bare && !specifier.startsWith('node:')) globalThis.loadedPackages.add(bare[1]);
        return next(specifier, context);
      },
    });`)}`;
  const out = execFileSync(
    process.execPath,
    [
      `--import=${hook}`,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(module)}); console.log(JSON.stringify([...globalThis.loadedPackages]));`,
    ],
    { cwd: root, env: { PATH: process.env.PATH ?? '' } },
  ).toString();
  return new Set(JSON.parse(out.trim().split('\n').at(-1)!) as string[]);
}

// What a service does not need is not loaded (issue 17, memory): @nestjs/swagger only where
// docs are served, the tracing SDK only when an exporter is configured (loaded at boot then).
describe('what each service loads', () => {
  const loaded = {} as Record<Service, Set<string>>;

  beforeAll(() => {
    ensureBuilt();
    for (const service of SERVICES) loaded[service] = packagesLoadedBy(service);
  });

  it('the gateway, which serves /docs, loads @nestjs/swagger (the check sees what it is for)', () => {
    expect(loaded.orders.has('@nestjs/swagger')).toBe(true);
    expect(loaded.orders.has('@nestjs/core')).toBe(true);
  });

  it.each(['users', 'inventory', 'email'] as const)(
    '%s serves no docs and does not load @nestjs/swagger',
    (service) => {
      expect(loaded[service].has('@nestjs/core')).toBe(true);
      expect(loaded[service].has('@nestjs/swagger')).toBe(false);
    },
  );

  it.each([...SERVICES])('%s does not load the tracing SDK until an exporter is set', (service) => {
    expect(loaded[service].has('@opentelemetry/sdk-trace')).toBe(false);
    expect(loaded[service].has('@opentelemetry/exporter-trace-otlp-http')).toBe(false);
  });
});
