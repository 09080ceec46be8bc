import { BadRequestException } from '@nestjs/common';

/** Deepest nesting of arrays and objects a request body may have (the bodies of docs/contract.md need 3). */
export const MAX_JSON_DEPTH = 32;

/** The nesting depth of a parsed JSON value, counted without recursion. */
export function jsonDepth(value: unknown, stopAt = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > stopAt) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * Refuses a body nested deeper than `MAX_JSON_DEPTH` with 400 before validation:
 * class-transformer recurses once per level, so a 10 KB body nested 5,000 deep overflowed the
 * stack (500) and a 60 KB one cost 13 times the CPU of a normal request.
 */
export function jsonDepthMiddleware(
  request: { body?: unknown },
  _response: unknown,
  next: (error?: unknown) => void,
): void {
  if (jsonDepth(request.body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    next(
      new BadRequestException(
        `Request body is nested deeper than ${MAX_JSON_DEPTH} levels; send a flatter document.`,
      ),
    );
    return;
  }
  next();
}
