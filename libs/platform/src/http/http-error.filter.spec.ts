import { describe, expect, it } from '@jest/globals';
import { type ArgumentsHost, NotFoundException } from '@nestjs/common';
import {
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
} from 'typeorm';
import { isDatabaseUnavailable } from '../database/database-unavailable.js';
import { TransactionTimeoutError } from '../database/pipelining.js';
import { HttpErrorFilter } from './http-error.filter.js';

function answer(exception: unknown) {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = {
    headers: {},
  };
  const response = {
    status(code: number) {
      sent.status = code;
      return { json: (body: unknown) => (sent.body = body) };
    },
    setHeader(name: string, value: string) {
      sent.headers[name] = value;
    },
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
  new HttpErrorFilter().catch(exception, host);
  return sent;
}

const pgError = (code: string, message: string) =>
  Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('HttpErrorFilter', () => {
  it('answers 503 with Retry-After when the database dropped the connection', () => {
    const terminated = new QueryFailedError(
      'INSERT INTO order_events ...',
      [],
      pgError('57P01', 'terminating connection due to administrator command'),
    );
    for (const error of [
      terminated,
      new QueryRunnerProviderAlreadyReleasedError(),
      new QueryRunnerAlreadyReleasedError(), // the COMMIT after the connection was killed
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      // A statement pipelined behind the one that got the termination error.
      new QueryFailedError(
        'INSERT INTO idempotency_keys ...',
        [],
        Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      ),
      new Error('Client was closed and is not queryable'),
      // A request's transaction that ran past its time and was abandoned.
      new TransactionTimeoutError('The transaction did not finish within 30000 ms'),
    ]) {
      const sent = answer(error);
      expect(sent.status).toBe(503);
      expect(sent.headers['Retry-After']).toBe('1');
      expect((sent.body as { message: string }).message).toMatch(/database.*retry/i);
    }
  });

  it('keeps a statement error a 500 without internals, and an HTTP exception its status', () => {
    const syntax = new QueryFailedError('SELEC 1', [], pgError('42601', 'syntax error'));
    expect(isDatabaseUnavailable(syntax)).toBe(false);
    expect(answer(syntax)).toMatchObject({
      status: 500,
      body: { statusCode: 500, message: 'Internal server error' },
      headers: {},
    });
    expect(answer(new NotFoundException('Order not found'))).toMatchObject({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'Order not found' },
    });
  });
});
