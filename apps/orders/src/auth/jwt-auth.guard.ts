import {
  InvalidTokenError,
  JWT_AUDIENCE,
  JWT_ISSUER,
  SERVICE_CONFIG,
  type ServiceConfig,
  verifyJwt,
} from '@app/platform';
import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  ForbiddenException,
  Logger,
  UnauthorizedException,
} from '@nestjs/common';
import { createPublicKey, type KeyObject } from 'node:crypto';

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  userId?: string;
  /** The token's email claim, when it has one. */
  email?: string;
  /** `admin` when the token carries the admin role claim. */
  role?: 'admin';
}

/** Verifies the Bearer token (EdDSA only, `exp`, `iss`, `aud`); the user id is its `sub`. */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly key?: KeyObject;

  constructor(@Inject(SERVICE_CONFIG) config: ServiceConfig) {
    if (config.jwtPublicKey) this.key = createPublicKey(config.jwtPublicKey);
    else
      new Logger(JwtAuthGuard.name).error(
        'JWT_PUBLIC_KEY is not set: every authenticated request will answer 401',
      );
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const response = context
      .switchToHttp()
      .getResponse<{ setHeader(name: string, value: string): void }>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header) : null;
    if (!match || !this.key) {
      // RFC 6750 section 3: a request without credentials gets the challenge, no error code.
      response.setHeader('WWW-Authenticate', 'Bearer realm="commerce"');
      throw new UnauthorizedException('A valid Bearer token is required.');
    }
    try {
      const claims = verifyJwt(match[1]!, this.key, {
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
      });
      request.userId = claims.sub;
      if (typeof claims.email === 'string') request.email = claims.email;
      if (claims.role === 'admin') request.role = 'admin';
    } catch (error) {
      const reason =
        error instanceof InvalidTokenError ? error.message : 'Token cannot be verified.';
      response.setHeader(
        'WWW-Authenticate',
        `Bearer realm="commerce", error="invalid_token", error_description="${reason.replace(/"/g, "'")}"`,
      );
      throw new UnauthorizedException(reason);
    }
    return true;
  }
}

/** The authenticated user's id; it comes from the token only, never from a body. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => {
    const userId = context.switchToHttp().getRequest<AuthenticatedRequest>().userId;
    if (!userId) throw new UnauthorizedException('A valid Bearer token is required.');
    return userId;
  },
);

/**
 * Lets only administrators through: a token with the `admin` role claim (granted with
 * `npm run users -- grant-admin <email>`). Runs after `JwtAuthGuard`; a customer's token
 * gets 403.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (request.role !== 'admin')
      throw new ForbiddenException(
        'This endpoint is for administrators; the token has no admin role (an operator grants it with npm run users -- grant-admin <email>, then sign in again).',
      );
    return true;
  }
}

/** The administrator making a request, as stock records name them: `email (account id)`. */
export const CurrentAdmin = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!request.userId) throw new UnauthorizedException('A valid Bearer token is required.');
    return request.email ? `${request.email} (${request.userId})` : request.userId;
  },
);
