import {
  CORRELATION_HEADER,
  currentLogContext,
  inSpan,
  internalAuthorization,
  type ServiceConfig,
  SpanKind,
  traceparentOf,
} from '@app/platform';
import { HttpException, Logger, ServiceUnavailableException } from '@nestjs/common';

/** Where and how the gateway calls one service's internal API. */
export interface InternalService {
  /** The service's name, in logs and in the 503 a client sees. */
  name: string;
  baseUrl: string;
  timeoutMs: number;
  /**
   * Whether the service's 404 reaches the client (inventory: an unknown SKU). Otherwise a 404
   * means the gateway called a path the service lacks (a wrong URL): 503.
   */
  passNotFound: boolean;
}

/**
 * The gateway's synchronous calls to a service's internal API, with its timeout and the
 * internal token. The service's 4xx answers pass through (with their message); an
 * unreachable, slow or failing service is a 503. The call is a CLIENT span whose
 * `traceparent` the service continues, and it carries the request's correlation id.
 */
export class InternalClient {
  private readonly logger: Logger;

  constructor(
    private readonly service: InternalService,
    private readonly config: Pick<ServiceConfig, 'internalTokens'>,
  ) {
    this.logger = new Logger(`${service.name} client`);
  }

  /** Sends `body` (JSON) to the service's `path` and returns its JSON answer. */
  async call<T>(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const url = new URL(path, this.service.baseUrl);
    let response: Response;
    try {
      response = await inSpan(
        `${method} ${path}`,
        {
          kind: SpanKind.CLIENT,
          attributes: { 'http.request.method': method, 'url.full': url.href },
        },
        async (span) => {
          const traceparent = traceparentOf();
          const answer = await fetch(url, {
            method,
            headers: {
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
              ...internalAuthorization(this.config),
              ...headers,
              [CORRELATION_HEADER]: currentLogContext()?.correlationId ?? '',
              ...(traceparent ? { traceparent } : {}),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(this.service.timeoutMs),
          });
          span.setAttribute('http.response.status_code', answer.status);
          return answer;
        },
      );
    } catch (error) {
      this.logger.warn(`${this.service.name} ${path} unreachable: ${(error as Error).message}`);
      throw this.unavailable();
    }
    const payload = (await response.json().catch(() => ({}))) as { message?: unknown };
    if (response.ok) return payload as T;
    const passes = response.status !== 404 || this.service.passNotFound;
    if (response.status >= 400 && response.status < 500 && passes) {
      const message = typeof payload.message === 'string' ? payload.message : response.statusText;
      throw new HttpException(message, response.status);
    }
    this.logger.warn(`${this.service.name} ${path} answered ${response.status}`);
    throw this.unavailable();
  }

  private unavailable(): ServiceUnavailableException {
    return new ServiceUnavailableException(
      `The ${this.service.name} service is unavailable; try again shortly.`,
    );
  }
}
