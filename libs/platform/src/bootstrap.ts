import 'reflect-metadata';
import { type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export interface BootstrapOptions {
  /** Service name, used in log lines. */
  service: string;
  /** Port used when `PORT` is unset. */
  defaultPort: number;
}

/** Creates the Nest application, wires shutdown hooks and listens on `PORT`. */
export async function bootstrapService(
  rootModule: Type<unknown>,
  options: BootstrapOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create(rootModule, { bufferLogs: false });
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? options.defaultPort);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(
      `PORT="${process.env.PORT}" is not a TCP port: use an integer from 1 to 65535.`,
    );
  }
  await app.listen(port, '0.0.0.0');
  return app;
}
