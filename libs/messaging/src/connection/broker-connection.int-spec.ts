import { createTestVhost, type TestVhost } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib from 'amqplib';
import { createServer } from 'node:net';
import { connectFailureHint } from './broker-connection.js';

/** amqplib's message for a connection attempt to `url`. */
const failureOf = (url: string) =>
  amqplib.connect(url).then(
    async (connection) => {
      await connection.close();
      throw new Error(`connected to ${url}`);
    },
    (error: Error) => error.message,
  );

// The hints are matched against what the real broker answers, not against invented messages.
describe('connectFailureHint against RabbitMQ', () => {
  let vhost: TestVhost;

  beforeAll(async () => {
    vhost = await createTestVhost('hint');
  });

  afterAll(async () => {
    await vhost?.dispose();
  });

  // The broker under test: the default one, or the node `npm run test:rabbitmq4` started.
  const address = () => new URL(vhost.url).host;

  it('names the user when the login is refused', async () => {
    const url = vhost.url.replace('guest:guest', 'guest:wrong');
    expect(connectFailureHint(await failureOf(url), url)).toBe(
      `RabbitMQ at ${address()} refused the login of user "guest": check the user and password in AMQP_URL`,
    );
  });

  it('names the vhost when it cannot be opened', async () => {
    const url = `${vhost.url}-missing`;
    const missing = decodeURIComponent(new URL(url).pathname.slice(1));
    expect(connectFailureHint(await failureOf(url), url)).toBe(
      `RabbitMQ at ${address()} refused to open vhost "${missing}" for user "guest": check that the vhost in the path of AMQP_URL exists and that the user has permissions on it`,
    );
  });

  it('names the address when nothing answers there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve)); // the port is free again: refused
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    expect(connectFailureHint(await failureOf(url), url)).toBe(
      `check that RabbitMQ runs and that the host and port of AMQP_URL (127.0.0.1:${port}) reach it`,
    );
  });
});
