import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

/**
 * The optional `Idempotency-Key` header. Read by a custom decorator rather than `@Headers()`,
 * which the OpenAPI explorer documents as a second, required header parameter.
 */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string | undefined => {
    const value = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers[
      'idempotency-key'
    ];
    return typeof value === 'string' ? value : undefined;
  },
);
