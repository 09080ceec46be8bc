import { type ServiceName } from '@app/events';
import {
  configureServiceApp,
  createLogger,
  loadServiceConfig,
  type ServiceConfig,
} from '@app/platform';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';

export interface RunningServiceApp {
  app: NestExpressApplication;
  config: ServiceConfig;
  url(path: string): string;
  close(): Promise<void>;
}

/** Boots one service's root module in-process, on a free port, configured like production. */
export async function startServiceApp(
  service: ServiceName,
  module: (config: ServiceConfig) => DynamicModule,
  env: Record<string, string>,
  errorStatus?: Readonly<Record<string, number>>,
): Promise<RunningServiceApp> {
  const config = loadServiceConfig(service, { ...env, PORT: '1' });
  const app = await NestFactory.create<NestExpressApplication>(module(config), {
    logger: ['error', 'warn'],
    bodyParser: false,
  });
  await configureServiceApp(
    app,
    config,
    createLogger(service, 'warn'),
    errorStatus ? { errorStatus } : {},
  );
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    url: (path) => `http://127.0.0.1:${address.port}${path}`,
    close: () => app.close(),
  };
}
