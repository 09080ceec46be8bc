// A RabbitMQ node for a test run, outside the machine's broker: CI runs the integration and
// end-to-end suites once on the machine's RabbitMQ 3.10 and once on such a node of RabbitMQ 4.
//
//   tsx scripts/infra/test-broker.ts start [--root <dir>] [--name <prefix>]
//     starts a node (from the installation in <dir>, default the machine's) and prints the
//     variables that point the tests at it: TEST_AMQP_BASE, RABBITMQ_MANAGEMENT_URL,
//     TEST_RABBITMQ_ROOT and TEST_BROKER_NODE (for stop);
//   tsx scripts/infra/test-broker.ts stop <TEST_BROKER_NODE>
import { BrokerNode } from '../../libs/testing/src/broker-node.js';

const [command, ...rest] = process.argv.slice(2);
const option = (name: string) => {
  const index = rest.indexOf(`--${name}`);
  return index >= 0 ? rest[index + 1] : undefined;
};

if (command === 'start') {
  const root = option('root') ?? '/';
  const node = await BrokerNode.start({
    prefix: option('name') ?? 'ci',
    root,
    detached: true,
  });
  const version = (await node.management<{ rabbitmq_version: string }>('GET', '/overview'))
    .rabbitmq_version;
  process.stderr.write(
    `[test-broker] RabbitMQ ${version} node ${node.name} on :${node.amqpPort}\n`,
  );
  console.log(`export TEST_AMQP_BASE=amqp://guest:guest@127.0.0.1:${node.amqpPort}`);
  console.log(`export RABBITMQ_MANAGEMENT_URL=${node.managementUrl}`);
  console.log(`export TEST_RABBITMQ_ROOT=${root}`);
  console.log(`export TEST_BROKER_NODE=${node.id}`);
  process.exit(0);
} else if (command === 'stop' && rest[0]) {
  const stopped = BrokerNode.stopDetached(rest[0], process.env.TEST_RABBITMQ_ROOT || '/');
  process.stderr.write(`[test-broker] ${stopped ? 'stopped' : 'no such node:'} ${rest[0]}\n`);
} else {
  process.stderr.write(
    'usage: test-broker.ts start [--root <dir>] [--name <prefix>] | stop <node>\n',
  );
  process.exit(2);
}
