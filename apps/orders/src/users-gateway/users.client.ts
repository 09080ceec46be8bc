import {
  CLIENT_ADDRESS_HEADER,
  CORRELATION_HEADER,
  currentLogContext,
  inSpan,
  internalAuthorization,
  SERVICE_CONFIG,
  type ServiceConfig,
  SpanKind,
  traceparentOf,
} from '@app/platform';
import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';

/**
 * The gateway's one synchronous call: users' internal API, with `USERS_TIMEOUT`. Users' 4xx
 * answers pass through; an unreachable, slow or failing users service is a 503. The call is a
 * CLIENT span whose `traceparent` users continues, so a registration is one trace.
 */
@Injectable()
export class UsersClient {
  private readonly logger = new Logger(UsersClient.name);

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ServiceConfig) {}

  /**
   * POSTs `body` to users' `path` and returns its JSON answer; `clientAddress` (the caller of
   * the gateway) lets users apply its own per-client limits.
   */
  async post<T>(
    path: '/internal/register' | '/internal/authenticate',
    body: unknown,
    clientAddress?: string,
  ): Promise<T> {
    const url = new URL(path, this.config.usersUrl);
    let response: Response;
    try {
      response = await inSpan(
        `POST ${path}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { 'http.request.method': 'POST', 'url.full': url.href },
        },
        async (span) => {
          const traceparent = traceparentOf();
          const answer = await fetch(url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              ...internalAuthorization(this.config),
              ...(clientAddress ? { [CLIENT_ADDRESS_HEADER]: clientAddress } : {}),
              [CORRELATION_HEADER]: currentLogContext()?.correlationId ?? '',
              ...(traceparent ? { traceparent } : {}),
            },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(this.config.usersTimeoutMs),
          });
          span.setAttribute('http.response.status_code', answer.status);
          return answer;
        },
      );
    } catch (error) {
      this.logger.warn(`users ${path} unreachable: ${(error as Error).message}`);
      throw new ServiceUnavailableException('The users service is unavailable; try again shortly.');
    }
    const payload = (await response.json().catch(() => ({}))) as { message?: unknown };
    if (response.ok) return payload as T;
    if (response.status >= 400 && response.status < 500 && response.status !== 404) {
      const message = typeof payload.message === 'string' ? payload.message : response.statusText;
      throw new HttpException(message, response.status);
    }
    this.logger.warn(`users ${path} answered ${response.status}`);
    throw new ServiceUnavailableException('The users service is unavailable; try again shortly.');
  }
}
