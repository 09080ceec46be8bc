import 'reflect-metadata';
import {
  type DynamicModule,
  type INestApplication,
  Module,
  type OnApplicationShutdown,
  type Type,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { type Logger } from 'pino';
import { type ServiceName } from '@app/events';
import { ConfigError, loadServiceConfig, type ServiceConfig } from './config/service-config.js';
import { correlationIdMiddleware, requestLogMiddleware } from './http/correlation-id.middleware.js';
import { HttpErrorFilter } from './http/http-error.filter.js';
import { jsonDepthMiddleware } from './http/json-depth.js';
import { reportCrashes } from './logging/crash-log.js';
import { createLogger, PinoNestLogger } from './logging/logger.js';
import { collectDefaultMetrics, startOpsServer } from './metrics/metrics.js';
import { startTracing, stopTracing } from './tracing/tracing.js';
import { tracingMiddleware } from './tracing/tracing.middleware.js';

/** Largest request body accepted, per docs/contract.md section 3. */
export const BODY_LIMIT = '64kb';

export interface BootstrapOptions {
  /** Builds the root module from the validated configuration. */
  module: (config: ServiceConfig) => Type<unknown> | DynamicModule;
  /** Extra set-up of the HTTP application before it listens (helmet, OpenAPI, ...). */
  configure?: (app: NestExpressApplication, config: ServiceConfig) => void | Promise<void>;
  /** Serve `/metrics` on `OPS_PORT` (the gateway) instead of through the app's controllers. */
  opsServer?: boolean;
  /** HTTP status of domain errors by their stable `code`. */
  errorStatus?: Readonly<Record<string, number>>;
}

/**
 * The HTTP set-up every service shares: a SERVER span per request, the correlation id, the
 * request log, the body limit, the error format, validation and shutdown hooks. `bootstrapService`
 * and the tests' `startServiceApp` both call it, so a test boots an app exactly as production does.
 */
export async function configureServiceApp(
  app: NestExpressApplication,
  config: ServiceConfig,
  logger: Logger,
  options: Pick<BootstrapOptions, 'configure' | 'errorStatus'>,
): Promise<void> {
  app.use(tracingMiddleware);
  app.use(correlationIdMiddleware);
  app.use(requestLogMiddleware(logger));
  app.set('trust proxy', config.trustProxy);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.use(jsonDepthMiddleware);
  app.useGlobalFilters(new HttpErrorFilter(options.errorStatus));
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
  );
  app.enableShutdownHooks();
  const server = app.getHttpServer();
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.headersTimeoutMs;
  await options.configure?.(app, config);
}

/** The signals a supervisor or a person stops a service with (Nest's hooks handle them). */
const SHUTDOWN_LOG_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Holds a service's own module and what every service adds to it. */
@Module({})
class ServiceRootModule {}

/** Says that a service stopped, once Nest has closed the server and run every shutdown hook. */
class ShutdownLog implements OnApplicationShutdown {
  constructor(
    private readonly logger: Logger,
    private readonly service: ServiceName,
  ) {}

  onApplicationShutdown(signal?: string): void {
    this.logger.info(
      { signal },
      `${this.service} stopped${signal ? ` (${signal})` : ''}: HTTP server closed, messaging drained`,
    );
  }
}

/**
 * Boots one service: validated configuration (a bad value stops the process with the
 * variable named), JSON logs with the correlation id, the JSON body limit, the error format,
 * graceful shutdown on SIGTERM/SIGINT, then listens on `PORT`.
 */
export async function bootstrapService(
  service: ServiceName,
  options: BootstrapOptions,
): Promise<INestApplication> {
  let config: ServiceConfig;
  let logger: Logger;
  try {
    config = loadServiceConfig(service);
    logger = createLogger(service, config.logLevel);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : String(error);
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: message })}\n`);
    process.exit(78);
  }
  reportCrashes(logger, service);
  await startTracing(service);
  try {
    // The logger from the start, so boot logs are JSON too; abortOnError off, so a failed
    // boot ends in the catch below (one fatal line) instead of Nest's own exit.
    for (const signal of SHUTDOWN_LOG_SIGNALS)
      process.once(signal, () =>
        logger.info(
          { signal },
          `${service} stopping (${signal}): no new requests or deliveries, draining what runs`,
        ),
      );
    const root: DynamicModule = {
      module: ServiceRootModule,
      imports: [options.module(config)],
      providers: [{ provide: ShutdownLog, useFactory: () => new ShutdownLog(logger, service) }],
    };
    const app = await NestFactory.create<NestExpressApplication>(root, {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
      bodyParser: false,
    });
    await configureServiceApp(app, config, logger, options);
    collectDefaultMetrics(service);
    if (options.opsServer) {
      const ops = await startOpsServer(config.opsPort);
      app.getHttpServer().on('close', () => ops.close());
      logger.info({ opsPort: config.opsPort }, `metrics on :${config.opsPort}/metrics`);
    }
    app.getHttpServer().on('close', () => void stopTracing());
    await app.listen(config.port, config.host);
    logger.info(
      { port: config.port, host: config.host },
      `${service} listening on ${config.host}:${config.port}`,
    );
    return app;
  } catch (error) {
    logger.fatal({ err: error }, `${service} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
