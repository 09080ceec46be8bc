import {
  accountKey,
  accountLimit,
  CLIENT_ADDRESS_HEADER,
  enforceLimits,
  type RateLimit,
  RateLimiter,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';

/**
 * Bounds password checks on users itself, not only at the gateway: `RATE_LIMIT_PER_MINUTE`
 * halved, per account and client address (the gateway's client, passed in `x-client-address`
 * by a caller `InternalCallerGuard` has authenticated; else the socket's address). Counting
 * per account and client, never per account alone, keeps others from locking a user out.
 */
@Injectable()
export class AuthenticateLimitGuard implements CanActivate {
  private readonly limit: RateLimit;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(SERVICE_CONFIG) config: Pick<ServiceConfig, 'rateLimitPerMinute'>,
  ) {
    this.limit = accountLimit('password-checks', config.rateLimitPerMinute);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{
      headers: Record<string, string | string[] | undefined>;
      socket: { remoteAddress?: string };
      body?: { email?: unknown };
    }>();
    const response = context
      .switchToHttp()
      .getResponse<{ setHeader(name: string, value: string): void }>();
    const forwarded = request.headers[CLIENT_ADDRESS_HEADER];
    const client =
      typeof forwarded === 'string' && forwarded.length <= 64
        ? forwarded
        : (request.socket.remoteAddress ?? 'unknown');
    const key = accountKey(request.body?.email, client);
    enforceLimits(response, [await this.limiter.hit(key, this.limit)]);
    return true;
  }
}
