import { describe, expect, it } from '@jest/globals';
import { type ExecutionContext, HttpException } from '@nestjs/common';
import { loadServiceConfig } from '@app/platform';
import { RateLimitGuard } from './rate-limit.guard.js';

const context = (ip: string, email?: string) => {
  const headers: Record<string, string> = {};
  return {
    headers,
    context: {
      switchToHttp: () => ({
        getRequest: () => ({ ip, body: email ? { email } : {} }),
        getResponse: () => ({
          setHeader: (name: string, value: string) => (headers[name] = value),
        }),
      }),
    } as unknown as ExecutionContext,
  };
};

describe('RateLimitGuard', () => {
  it('allows the limit per IP, then answers 429 with Retry-After', () => {
    const guard = new RateLimitGuard({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i += 1)
      expect(guard.canActivate(context('10.0.0.1').context)).toBe(true);
    const over = context('10.0.0.1');
    expect(() => guard.canActivate(over.context)).toThrow(HttpException);
    expect(Number(over.headers['Retry-After'])).toBeGreaterThan(0);
    expect(guard.canActivate(context('10.0.0.2').context)).toBe(true);
  });

  it('rejects a bad RATE_LIMIT_PER_MINUTE at boot', () => {
    expect(() => loadServiceConfig('orders', { RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(
      'RATE_LIMIT_PER_MINUTE="lots" must be an integer from 1 to 1000000.',
    );
  });

  it('limits one email across IPs, case-insensitively', () => {
    const guard = new RateLimitGuard({ rateLimitPerMinute: 4 });
    expect(guard.canActivate(context('10.0.0.1', 'Ada@Example.com').context)).toBe(true);
    expect(guard.canActivate(context('10.0.0.2', 'ada@example.com').context)).toBe(true);
    expect(() => guard.canActivate(context('10.0.0.3', 'ADA@example.com').context)).toThrow(
      'Too many requests',
    );
  });
});
