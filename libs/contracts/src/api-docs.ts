// The bodies' `design:type` metadata, which @nestjs/swagger and class-transformer read, is only
// recorded when reflect-metadata is loaded before the classes are defined: load it here, as
// @nestjs/swagger's import did before.
import 'reflect-metadata';
import type * as Swagger from '@nestjs/swagger';

/**
 * The OpenAPI decorators of what every service shares (the internal API bodies, the health
 * controller), deferred: each records what it would do, and `applyApiDocs` does it with
 * @nestjs/swagger once a service that serves docs (the gateway) has loaded it. The services
 * that serve no docs never load @nestjs/swagger (about 15 MB of RSS each: docs/benchmarks.md,
 * section 4). Same arguments as @nestjs/swagger's decorators of the same names.
 */
type SwaggerApi = typeof Swagger;

const pending: ((swagger: SwaggerApi) => void)[] = [];
let loaded: SwaggerApi | undefined;

/** Runs `apply` once @nestjs/swagger is loaded by `applyApiDocs` (at once if it is). */
export function whenApiDocs(apply: (swagger: SwaggerApi) => void): void {
  if (loaded) apply(loaded);
  else pending.push(apply);
}

export function ApiProperty(options?: Swagger.ApiPropertyOptions): PropertyDecorator {
  return (target, key) => whenApiDocs((swagger) => swagger.ApiProperty(options)(target, key));
}

export function ApiPropertyOptional(options?: Swagger.ApiPropertyOptions): PropertyDecorator {
  return (target, key) =>
    whenApiDocs((swagger) => swagger.ApiPropertyOptional(options)(target, key));
}

export function ApiOperation(options: Swagger.ApiOperationOptions): MethodDecorator {
  return (target, key, descriptor) =>
    whenApiDocs((swagger) => swagger.ApiOperation(options)(target, key, descriptor));
}

export function ApiTags(...tags: string[]): ClassDecorator {
  return (target) => whenApiDocs((swagger) => swagger.ApiTags(...tags)(target));
}

/**
 * Applies every deferred decorator with `swagger` (and those of classes defined later at
 * once). Call it before `SwaggerModule.createDocument`.
 */
export function applyApiDocs(swagger: SwaggerApi): void {
  loaded = swagger;
  for (const apply of pending.splice(0)) apply(swagger);
}
