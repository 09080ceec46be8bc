// Plain-JavaScript helpers for the peer shop: the decorators a TypeScript example would write
// with @, applied by hand (Node runs no decorators), plus what the four services share.
import 'reflect-metadata';
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport } from '@nestjs/microservices';
import { TypeOrmModule } from '@nestjs/typeorm';

/** `@Injectable()` with `@Inject(token)` on each constructor parameter, in order. */
export function injectable(Class, ...tokens) {
  Injectable()(Class);
  tokens.forEach((token, index) => Inject(token)(Class, undefined, index));
  return Class;
}

/** `@Controller(path)` with `@Inject(token)` on each constructor parameter, in order. */
export function controller(Class, path, ...tokens) {
  Controller(path)(Class);
  tokens.forEach((token, index) => Inject(token)(Class, undefined, index));
  return Class;
}

/** Method decorators, then one parameter decorator per parameter, as `@` would apply them. */
export function method(Class, name, decorators, parameters = []) {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name);
  for (const decorator of [...decorators].reverse()) decorator(Class.prototype, name, descriptor);
  parameters.forEach((decorator, index) => decorator(Class.prototype, name, index));
}

export function module(Class, metadata) {
  Module(metadata)(Class);
  return Class;
}

/**
 * The RMQ transport as the Nest documentation and the popular examples set it up: a durable
 * queue per service, persistent messages, and the default auto-acknowledgement (noAck).
 */
export function rmq(queue) {
  return {
    transport: Transport.RMQ,
    options: {
      urls: [process.env.AMQP_URL],
      queue,
      queueOptions: { durable: true },
      persistent: true,
    },
  };
}

/** TypeORM on the service's database, tables made from the entities (synchronize). */
export function typeorm(entities) {
  return {
    type: 'postgres',
    url: process.env.DATABASE_URL,
    entities,
    synchronize: true,
    poolSize: 10,
    logging: false,
  };
}

/** The demo catalog: sku, name, price in cents (the stock is set by the benchmark). */
export const CATALOG = [
  ['KEYBOARD-MX', 'Mechanical keyboard', 12900],
  ['MOUSE-WL', 'Wireless mouse', 4900],
  ['MONITOR-27', '27" monitor', 32900],
  ['HEADPHONES-NC', 'Noise-cancelling headphones', 19900],
  ['CABLE-USBC', 'USB-C cable', 1900],
];

export const JWT_SECRET = process.env.JWT_SECRET ?? 'peer-shop-secret';

/** Tells the benchmark the service is up. */
export function ready(service) {
  console.log(JSON.stringify({ service, ready: true }));
}

/**
 * Boots one of the RMQ microservices (users, inventory, email): its module with TypeORM on
 * `entities`, consuming `<service>_queue`; `prepare(app)` runs before it consumes.
 */
export async function startMicroservice(service, { entities, imports = [], controllers, prepare }) {
  class ServiceModule {}
  module(ServiceModule, {
    imports: [
      TypeOrmModule.forRoot(typeorm(entities)),
      TypeOrmModule.forFeature(entities),
      ...imports,
    ],
    controllers,
  });
  const app = await NestFactory.createMicroservice(ServiceModule, {
    ...rmq(`${service}_queue`),
    logger: ['error'],
  });
  await prepare?.(app);
  await app.listen();
  ready(service);
}
