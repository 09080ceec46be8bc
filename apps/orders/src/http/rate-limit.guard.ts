import {
  accountKey,
  accountLimit,
  enforceLimits,
  RATE_LIMIT_WINDOW_MS,
  type RateLimit,
  RateLimiter,
  SERVICE_CONFIG,
  type ServiceConfig,
} from '@app/platform';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';

interface LimitedRequest {
  ip?: string;
  body?: { email?: unknown };
  userId?: string;
}

const http = (context: ExecutionContext) => ({
  request: context.switchToHttp().getRequest<LimitedRequest>(),
  response: context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>(),
});

/** The client address: the socket's, or X-Forwarded-For's only through a TRUST_PROXY proxy. */
const clientOf = (request: LimitedRequest) => request.ip ?? 'unknown';

/**
 * Limits registration and sign-in, across replicas (the counters are in the gateway's
 * database): `RATE_LIMIT_PER_MINUTE` per client address, and half that per account *and*
 * client address. An account's limit is never reached by someone else's attempts, so an
 * attacker cannot lock a user out; guessing one password is bounded per client address.
 * Guards run before validation, so malformed requests count too.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly client: RateLimit;
  private readonly account: RateLimit;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(SERVICE_CONFIG) config: Pick<ServiceConfig, 'rateLimitPerMinute'>,
  ) {
    this.client = {
      name: 'client',
      limit: config.rateLimitPerMinute,
      windowMs: RATE_LIMIT_WINDOW_MS,
    };
    this.account = accountLimit('account', config.rateLimitPerMinute);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { request, response } = http(context);
    const client = clientOf(request);
    const states = [await this.limiter.hit(client, this.client)];
    const email = request.body?.email;
    if (typeof email === 'string' && email.length <= 320)
      states.push(await this.limiter.hit(accountKey(email, client), this.account));
    enforceLimits(response, states);
    return true;
  }
}

/**
 * Limits order writes (place, pay, cancel) to `ORDER_RATE_LIMIT_PER_MINUTE` per user; runs
 * after `JwtAuthGuard`, which sets the user.
 */
@Injectable()
export class OrderWriteLimitGuard implements CanActivate {
  private readonly perUser: RateLimit;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(SERVICE_CONFIG) config: Pick<ServiceConfig, 'orderRateLimitPerMinute'>,
  ) {
    this.perUser = {
      name: 'order-writes',
      limit: config.orderRateLimitPerMinute,
      windowMs: RATE_LIMIT_WINDOW_MS,
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { request, response } = http(context);
    if (!request.userId) return true; // JwtAuthGuard answers 401 first.
    enforceLimits(response, [await this.limiter.hit(request.userId, this.perUser)]);
    return true;
  }
}
