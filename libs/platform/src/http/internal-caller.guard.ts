import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { type ServiceConfig } from '../config/service-config.js';
import { SERVICE_CONFIG } from '../config/service-config.token.js';

/**
 * The address of the gateway's client, which the gateway passes on internal calls so users can
 * limit per client; believed only from a caller that presented the internal token.
 */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

/** The header an internal caller presents its token in. */
export const INTERNAL_AUTHORIZATION_HEADER = 'authorization';

/** The `Authorization` header value internal HTTP calls carry (the first `INTERNAL_TOKEN`). */
export function internalAuthorization(config: Pick<ServiceConfig, 'internalTokens'>): {
  authorization?: string;
} {
  const token = config.internalTokens[0];
  return token ? { authorization: `Bearer ${token}` } : {};
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function isLoopback(address: string | undefined): boolean {
  if (!address || !isIP(address)) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/**
 * Authenticates the callers of internal endpoints (users' `/internal/*`, inventory's `/stock`,
 * email's `/emails`): `Authorization: Bearer <INTERNAL_TOKEN>`, compared in constant time
 * against every configured token, so a new one can be deployed next to the old before the old
 * is removed. Without `INTERNAL_TOKEN` (development only; production refuses to boot) the
 * endpoints answer loopback callers only. 401 with `WWW-Authenticate: Bearer` otherwise.
 */
@Injectable()
export class InternalCallerGuard implements CanActivate {
  private readonly tokens: Buffer[];

  constructor(@Inject(SERVICE_CONFIG) config: Pick<ServiceConfig, 'internalTokens'>) {
    this.tokens = config.internalTokens.map(digest);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{
      headers: Record<string, string | string[] | undefined>;
      socket: { remoteAddress?: string };
    }>();
    const response = http.getResponse<{ setHeader(name: string, value: string): void }>();
    if (this.tokens.length === 0) {
      if (isLoopback(request.socket.remoteAddress)) return true;
      return this.refuse(
        response,
        'Internal endpoints answer loopback callers only while INTERNAL_TOKEN is not set.',
      );
    }
    const header = request.headers[INTERNAL_AUTHORIZATION_HEADER];
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/.exec(header) : null;
    if (!match) return this.refuse(response, 'This internal endpoint needs the internal token.');
    const presented = digest(match[1]!);
    let valid = false;
    for (const token of this.tokens) valid = timingSafeEqual(token, presented) || valid;
    if (!valid) return this.refuse(response, 'The internal token is not valid.', 'invalid_token');
    return true;
  }

  private refuse(
    response: { setHeader(name: string, value: string): void },
    message: string,
    error?: string,
  ): never {
    response.setHeader(
      'WWW-Authenticate',
      error ? `Bearer realm="internal", error="${error}"` : 'Bearer realm="internal"',
    );
    throw new UnauthorizedException(message);
  }
}
