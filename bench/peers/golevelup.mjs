// The @golevelup/nestjs-rabbitmq contender of the transport benchmark, run by
// bench/transport.bench.ts as a child process with this package's own NestJS 11.
// Usage: node golevelup.mjs '<json: {op, url, queue, exchange, routingKey, n, rate, seconds, prefetch, window, body}>'
// Prints one JSON line: {perSecond} or {latencies}.
import 'reflect-metadata';
import { AmqpConnection, RabbitMQModule } from '@golevelup/nestjs-rabbitmq';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const args = JSON.parse(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();

class BenchModule {}
Module({
  imports: [
    RabbitMQModule.forRoot({
      uri: args.url,
      prefetchCount: args.prefetch,
      connectionInitOptions: { wait: true },
      defaultPublishOptions: { persistent: true },
      logger: { log() {}, error: console.error, warn() {}, debug() {}, verbose() {} },
    }),
  ],
})(BenchModule);

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const amqp = app.get(AmqpConnection);

/** Publishes `n` bodies with at most `window` publishes awaiting the channel's callback. */
async function publish(n, stamp = false) {
  let inFlight = 0;
  let release;
  for (let i = 0; i < n; i++) {
    while (inFlight >= args.window) await new Promise((r) => (release = r));
    inFlight++;
    const body = stamp ? { ...args.body, data: { ...args.body.data, sentAt: now() } } : args.body;
    amqp
      .publish(args.exchange, args.routingKey, body, { persistent: true, messageId: `${i}` })
      .finally(() => {
        inFlight--;
        release?.();
      });
  }
  while (inFlight > 0) await new Promise((r) => (release = r));
}

function subscribe(onMessage) {
  return amqp.createSubscriber(
    async (message) => onMessage(message),
    { queue: args.queue, createQueueIfNotExists: false },
    'bench',
  );
}

// Closing the app rejects what its channel still holds; the figures are taken by then.
process.on('unhandledRejection', () => {});
let result;
if (args.op === 'publish') {
  const started = performance.now();
  await publish(args.n);
  result = { perSecond: (args.n / (performance.now() - started)) * 1000 };
} else if (args.op === 'consume') {
  let seen = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  await subscribe(() => {
    if (++seen === args.n) done();
  });
  // The clock starts once the subscriber is set up, as for the other contenders.
  const started = performance.now();
  await finished;
  result = { perSecond: (args.n / (performance.now() - started)) * 1000 };
} else if (args.op === 'latency') {
  const latencies = [];
  const total = Math.round(args.rate * args.seconds);
  let done;
  const finished = new Promise((r) => (done = r));
  await subscribe((message) => {
    latencies.push(now() - message.data.sentAt);
    if (latencies.length === total) done();
  });
  const started = performance.now();
  const sent = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / args.rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sent.push(
      amqp.publish(
        args.exchange,
        args.routingKey,
        { ...args.body, data: { ...args.body.data, sentAt: now() } },
        { persistent: true },
      ),
    );
  }
  await finished;
  await Promise.allSettled(sent);
  result = { latencies };
}
await app.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
