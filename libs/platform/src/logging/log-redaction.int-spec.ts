import { createTestDatabase, DEFAULT_BROKER, type TestDatabase } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ArgumentsHost, Logger } from '@nestjs/common';
import amqp from 'amqplib';
import { Writable } from 'node:stream';
import { DataSource } from 'typeorm';
import { TransactionTimeoutError } from '../database/pipelining.js';
import { HttpErrorFilter } from '../http/http-error.filter.js';
import { createLogger, PinoNestLogger } from './logger.js';

const HASH = 'scrypt$32768$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA';
const EMAIL = 'victim.secret@example.com';

/** Everything the services' loggers write, as one string. */
function capturing() {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { output: () => text, logger: createLogger('users', 'info', destination) };
}

/** The HTTP error filter, handling `error` as it does for a request. */
function filter(error: unknown): void {
  const response = {
    headersSent: false,
    setHeader: () => undefined,
    status: () => ({ json: () => undefined }),
  };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
  new HttpErrorFilter().catch(error, host);
}

/**
 * Every kind of error the services log, produced for real (TypeORM against PostgreSQL, amqplib
 * against RabbitMQ), carrying user data in its properties: none of it reaches a log line,
 * whichever way the error is logged.
 */
describe('log lines never hold query parameters or other user data of errors', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const errors: Record<string, unknown> = {};

  beforeAll(async () => {
    database = await createTestDatabase('redaction');
    dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    await dataSource.query(
      `CREATE TABLE users (email text PRIMARY KEY, name text, password_hash text NOT NULL)`,
    );
    const insert = `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3)`;
    await dataSource.query(insert, [EMAIL, 'Ada', HASH]);
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: unknown) => e,
      );
    // The registration of the issue: a NUL byte in the name fails in PostgreSQL.
    errors.nulByte = await failure(dataSource.query(insert, ['b@example.com', 'A\u0000', HASH]));
    // A unique violation: pg's `detail` names the duplicate email.
    errors.unique = await failure(dataSource.query(insert, [EMAIL, 'Ada', HASH]));
    errors.wrapped = new Error('Registration failed', { cause: errors.unique });
    errors.aggregate = new AggregateError([errors.nulByte, errors.unique], 'Both failed');
    errors.timeout = new TransactionTimeoutError('The transaction ran past 1000 ms');
    const connection = await amqp.connect(DEFAULT_BROKER.amqpBases[0]!);
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    errors.amqp = await failure(channel.checkExchange(`no-such-exchange-${Date.now()}`));
    await connection.close().catch(() => undefined);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.dispose();
  });

  it('holds the failing query parameters on the errors themselves (the test has teeth)', () => {
    expect(JSON.stringify((errors.nulByte as { parameters: unknown }).parameters)).toContain(HASH);
    expect((errors.unique as { driverError: { detail: string } }).driverError.detail).toContain(
      EMAIL,
    );
  });

  it.each(['nulByte', 'unique', 'wrapped', 'aggregate', 'timeout', 'amqp'])(
    'writes a %s error through pino, the Nest logger and the HTTP error filter without its data',
    (name) => {
      const { output, logger } = capturing();
      const error = errors[name];
      logger.error({ err: error }, 'failed');
      logger.warn({ error }, 'failed');
      const nest = new PinoNestLogger(logger);
      nest.error(error);
      nest.error(error, (error as Error).stack, 'Context');
      Logger.overrideLogger(nest);
      try {
        filter(error);
      } finally {
        Logger.overrideLogger(['error', 'warn']);
      }
      const text = output();
      expect(text).not.toContain(HASH);
      expect(text).not.toContain('scrypt$');
      expect(text).not.toContain(EMAIL);
      expect(text).not.toContain('INSERT INTO');
      // What helps an operator stays: the class, the message and the SQLSTATE.
      expect(text).toContain((error as Error).constructor.name);
      if (name === 'unique') expect(text).toContain('"code":"23505"');
    },
  );
});
