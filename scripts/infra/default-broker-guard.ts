// Proves that a test run left the broker it shares with the machine alone: `record` declares a
// transient (non-durable) queue on it, which RabbitMQ deletes whenever the node or its app is
// stopped or restarted; `check` fails unless that queue is still there. Tests that stop, alarm
// or partition a broker must use broker nodes of their own (libs/testing/src/broker-node.ts).
//
//   tsx scripts/infra/default-broker-guard.ts record|check
import amqplib from 'amqplib';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const url = process.env.TEST_AMQP_BASE ?? 'amqp://guest:guest@127.0.0.1:5672';
const stateDir = join(import.meta.dirname, '..', '..', 'var', 'tmp');
const stateFile = join(stateDir, 'default-broker-guard');
const [command] = process.argv.slice(2);

const connection = await amqplib.connect(url).catch((error: Error) => {
  console.error(`[broker-guard] cannot reach the broker at ${url}: ${error.message}`);
  process.exit(1);
});
const channel = await connection.createChannel();
let failed = false;
channel.on('error', () => (failed = true));
if (command === 'record') {
  const queue = `test-run-guard.${Date.now()}`;
  await channel.assertQueue(queue, { durable: false, exclusive: false, autoDelete: false });
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(stateFile, queue);
  console.error(`[broker-guard] recorded ${queue} on ${new URL(url).host}`);
} else if (command === 'check') {
  const queue = readFileSync(stateFile, 'utf8').trim();
  const present = await channel.checkQueue(queue).then(
    () => true,
    () => false,
  );
  rmSync(stateFile, { force: true });
  if (!present || failed) {
    console.error(
      `[broker-guard] the broker at ${new URL(url).host} was stopped or restarted during the test run (its transient queue ${queue} is gone): a test touched the machine's broker instead of a node of its own.`,
    );
    process.exit(1);
  }
  const again = await connection.createChannel();
  await again.deleteQueue(queue);
  console.error(`[broker-guard] the broker at ${new URL(url).host} ran throughout the tests`);
} else {
  console.error('usage: default-broker-guard.ts record|check');
  process.exit(2);
}
await connection.close();
