import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import { TransactionTimeoutError } from '../database/pipelining.js';

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * Every error answers `{statusCode, error, message}` with `message` a string. Errors raised by
 * the body parser (bad JSON 400, too large 413) keep their 4xx status; anything unexpected is a
 * 500 without internals, and is logged. A database that dropped or refused the connection is
 * a 503 with `Retry-After`: the same request (with the same Idempotency-Key) may succeed.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  /** `statusByCode` maps the stable `code` of domain errors to their HTTP status. */
  constructor(private readonly statusByCode: Readonly<Record<string, number>> = {}) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    // Global filters also wrap event handlers (context type "amqp"): leave those errors to
    // the consumer's retry and dead-letter handling, untouched.
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<{
      status(code: number): { json(body: unknown): void };
      setHeader(name: string, value: string): void;
      headersSent?: boolean;
    }>();
    const body = this.toBody(exception);
    if (body.statusCode === 503 && !response.headersSent) response.setHeader('Retry-After', '1');
    if (body.statusCode === 503)
      this.logger.warn(
        `503: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
    else if (body.statusCode >= 500)
      this.logger.error(exception instanceof Error ? exception : String(exception));
    if (!response.headersSent) response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      const raw =
        typeof payload === 'string' ? payload : (payload as { message?: unknown }).message;
      const message = Array.isArray(raw)
        ? raw.join('; ')
        : typeof raw === 'string'
          ? raw
          : exception.message;
      return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
    }
    const code = (exception as { code?: unknown } | undefined)?.code;
    const mapped = typeof code === 'string' ? this.statusByCode[code] : undefined;
    if (mapped && exception instanceof Error) {
      return {
        statusCode: mapped,
        error: STATUS_CODES[mapped] ?? 'Error',
        message: exception.message,
      };
    }
    const status =
      (exception as { status?: unknown; statusCode?: unknown })?.status ??
      (exception as { statusCode?: unknown })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const type = (exception as { type?: string }).type;
      const message =
        type === 'entity.too.large'
          ? 'Request body is larger than 64 KiB.'
          : type === 'entity.parse.failed'
            ? 'Request body is not valid JSON.'
            : (exception as Error).message;
      return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message };
    }
    if (exception instanceof TransactionTimeoutError) {
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The database did not finish the request in time; retry the request in a moment.',
      };
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'The database connection was lost or refused; retry the request in a moment.',
      };
    }
    return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
  }
}
