import { SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import {
  type CanActivate,
  type ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
} from '@nestjs/common';

const WINDOW_MS = 60_000;
const SWEEP_AT = 10_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Fixed-window rate limit per client IP and per email in the body, in memory (per replica).
 * Over the limit: 429 with `Retry-After`. Guards run before validation, so even malformed
 * requests count.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly windows = new Map<string, Window>();
  private readonly perIp: number;
  private readonly perEmail: number;

  /** `RATE_LIMIT_PER_MINUTE` per IP (default 60), half that per email. */
  constructor(@Inject(SERVICE_CONFIG) config: Pick<ServiceConfig, 'rateLimitPerMinute'>) {
    this.perIp = config.rateLimitPerMinute;
    this.perEmail = Math.max(1, Math.floor(this.perIp / 2));
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context
      .switchToHttp()
      .getRequest<{ ip?: string; body?: { email?: unknown } }>();
    const response = context
      .switchToHttp()
      .getResponse<{ setHeader(name: string, value: string): void }>();
    const now = Date.now();
    if (this.windows.size > SWEEP_AT) this.sweep(now);
    const email =
      typeof request.body?.email === 'string' ? request.body.email.trim().toLowerCase() : undefined;
    const checks: [string, number][] = [[`ip:${request.ip ?? 'unknown'}`, this.perIp]];
    if (email) checks.push([`email:${email}`, this.perEmail]);
    for (const [key, limit] of checks) {
      const window = this.hit(key, now);
      if (window.count > limit) {
        const seconds = Math.ceil((window.resetAt - now) / 1000);
        response.setHeader('Retry-After', String(seconds));
        throw new HttpException(
          `Too many requests; retry in ${seconds} s.`,
          HttpStatus.TOO_MANY_REQUESTS,
        );
      }
    }
    return true;
  }

  private hit(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + WINDOW_MS };
      this.windows.set(key, window);
    }
    window.count += 1;
    return window;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
