import { createEvent, type EventPayloads } from '@app/events';
import { type BrokerProbe } from '@app/testing';
import { PreparingClient } from '@app/platform';
import {
  type DynamicModule,
  type INestApplicationContext,
  type LoggerService,
  type Provider,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { MESSAGING_MIGRATIONS } from '../src/database/messaging-tables.migration.js';
import { MessagingModule } from '../src/messaging.module.js';
import { type MessagingOptions } from '../src/messaging.options.js';
import { MessagingService } from '../src/messaging.service.js';

/** A table where test handlers record their effects. */
export class TestEffects1764000000001 implements MigrationInterface {
  name = 'TestEffects1764000000001';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE test_effects (
      id serial PRIMARY KEY, handler text NOT NULL, event_id text NOT NULL, subject text,
      data jsonb NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE test_effects`);
  }
}

export interface TestService {
  app: INestApplicationContext;
  messaging: MessagingService;
  dataSource: DataSource;
  close(): Promise<void>;
}

/** Boots a Nest application context with TypeORM, the messaging module and the given handlers. */
export async function startService(options: {
  service: string;
  amqpUrl: string;
  databaseUrl: string;
  providers?: Provider[];
  messaging?: Partial<MessagingOptions>;
  /** pg pool size (default 10). */
  poolSize?: number;
  /** Receives the application's log lines (default: errors and warnings to the console). */
  logger?: LoggerService;
}): Promise<TestService> {
  const root: DynamicModule = {
    module: class TestRootModule {},
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: options.databaseUrl,
        migrations: [...MESSAGING_MIGRATIONS, TestEffects1764000000001],
        migrationsRun: true,
        synchronize: false,
        logging: false,
        // as dataSourceOptions
        extra: { max: options.poolSize ?? 10, pipeline: true, Client: PreparingClient },
      }),
      MessagingModule.forRoot({
        service: options.service,
        url: options.amqpUrl,
        retryDelaysMs: [100, 200],
        connectWaitMs: 3_000,
        shutdownTimeoutMs: 5_000,
        publishTimeoutMs: 3_000,
        ...options.messaging,
        isGlobal: true,
      }),
    ],
    providers: options.providers ?? [],
  };
  const app = await NestFactory.createApplicationContext(root, {
    logger: options.logger ?? ['error', 'warn'],
  });
  app.enableShutdownHooks();
  await app.init();
  const messaging = app.get(MessagingService);
  const dataSource = app.get(DataSource);
  return { app, messaging, dataSource, close: () => app.close() };
}

/** An `order.placed` v2 document as orders would publish it. */
export function orderPlaced(
  overrides: Partial<EventPayloads['order.placed']> = {},
  id = randomUUID(),
) {
  const orderId = overrides.orderId ?? randomUUID();
  return createEvent(
    'order.placed',
    {
      orderId,
      userId: randomUUID(),
      items: [{ sku: 'SKU-1', quantity: 1, unitPriceCents: 1000 }],
      totalCents: 1000,
      currency: 'EUR',
      ...overrides,
    },
    {
      source: 'orders',
      subject: orderId,
      streamVersion: 1,
      id,
      correlationId: `corr-${id.slice(0, 8)}`,
    },
  );
}

/** Publishes a raw body on `exchange` as a producer would (persistent, with a message id). */
export async function publishRaw(
  probe: BrokerProbe,
  exchange: string,
  routingKey: string,
  body: unknown,
  properties: Record<string, unknown> = {},
): Promise<void> {
  const content = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const id = (body as { id?: string } | undefined)?.id ?? randomUUID();
  await probe.channel.assertExchange(exchange, 'topic', { durable: true });
  probe.channel.publish(exchange, routingKey, content, {
    persistent: true,
    messageId: id,
    type: routingKey,
    contentType: 'application/cloudevents+json',
    ...properties,
  });
}

/** Rows recorded by test handlers. */
export async function effects(dataSource: DataSource, handler?: string) {
  return dataSource.query<
    { handler: string; event_id: string; subject: string | null; data: unknown }[]
  >(
    handler
      ? `SELECT * FROM test_effects WHERE handler = $1 ORDER BY id`
      : `SELECT * FROM test_effects ORDER BY id`,
    handler ? [handler] : [],
  );
}

/** A Nest logger that keeps every line (and prints errors and warnings as the default does). */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string }[] = [];

  log(message: unknown): void {
    this.keep('log', message);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', message);
    console.error(message, ...rest);
  }
  warn(message: unknown): void {
    this.keep('warn', message);
    console.warn(message);
  }
  debug(message: unknown): void {
    this.keep('debug', message);
  }
  verbose(message: unknown): void {
    this.keep('verbose', message);
  }

  /** Lines of `level` matching `pattern`. */
  matching(pattern: RegExp, level?: string): string[] {
    return this.lines
      .filter((line) => (!level || line.level === level) && pattern.test(line.message))
      .map((line) => line.message);
  }

  private keep(level: string, message: unknown): void {
    this.lines.push({
      level,
      message: message instanceof Error ? message.message : String(message),
    });
  }
}
