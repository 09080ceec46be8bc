#!/usr/bin/env node
// npm run test:compose [-- --cluster]: builds the four images, brings the whole stack up with
// podman's Docker-compatible API and the local stand-ins of scripts/compose/podman-setup.sh
// (RabbitMQ 4.0, the version docker-compose.yml names), waits until every container is
// healthy, walks one order through the gateway (register, token, order, CONFIRMED, emails in
// Mailpit), checks through the RabbitMQ management API the broker's version, that the queues
// exist and that each service connected as its own user, and tears it all down. --cluster
// adds docker-compose.cluster.yml: three RabbitMQ nodes, quorum queues on all three.
import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const setup = join(root, 'scripts', 'compose', 'podman-setup.sh');
const cluster = process.argv.includes('--cluster');
const PROJECT = cluster ? 'commerce-compose-cluster' : 'commerce-compose-test';
const files = [
  '-f',
  'docker-compose.yml',
  ...(cluster ? ['-f', 'docker-compose.cluster.yml'] : []),
];
const profiles = cluster ? ['--profile', 'cluster'] : [];
const PORTS = { gateway: 13000, rabbitmqUi: 35672, mailpitUi: 18025 };
const ADMIN = `Basic ${Buffer.from('admin:admin-dev-password').toString('base64')}`;
const started = Date.now();
const log = (message) =>
  console.log(`[compose-test +${Math.round((Date.now() - started) / 1000)}s] ${message}`);

// The node image is a stand-in built from this machine's node: it must be the Dockerfile's line.
const line = readFileSync(join(root, '.nvmrc'), 'utf8').trim();
if (process.versions.node.split('.')[0] !== line) {
  console.error(
    `The Dockerfile builds on node:${line}-slim, and the stand-in image is made from the node ` +
      `that runs this script (${process.version}). Run eval "$(bash scripts/infra/ensure-node.sh)" ` +
      'first, then npm run test:compose again.',
  );
  process.exit(1);
}
if (!existsSync(setup)) {
  console.error(`${setup} not found.`);
  process.exit(1);
}
run('bash', [setup, 'infra']);
run('bash', [setup, 'service']);
const podmanEnv = Object.fromEntries(
  execFileSync('bash', [setup, 'env'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^(?:export )?([A-Z_]+)=["']?(.*?)["']?$/.exec(line.trim()))
    .filter(Boolean)
    .map((match) => [match[1], match[2]]),
);
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const env = {
  ...process.env,
  ...podmanEnv,
  GATEWAY_PORT: String(PORTS.gateway),
  RABBITMQ_UI_PORT: String(PORTS.rabbitmqUi),
  MAILPIT_UI_PORT: String(PORTS.mailpitUi),
  JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};
const compose = (...args) =>
  run('docker-compose', ['-p', PROJECT, ...files, ...profiles, ...args], { env });

let failed = false;
try {
  compose('down', '-v', '-t', '5');
  log('building the images and starting the stack');
  compose('up', '-d', '--build');
  await waitUntil('every container healthy', 420_000, allHealthy);
  log('all containers healthy');

  const email = `compose-${randomUUID().slice(0, 8)}@example.com`;
  const gateway = (path) => `http://127.0.0.1:${PORTS.gateway}${path}`;
  await waitUntil(
    'the catalog projection',
    60_000,
    async () => (await json(gateway('/products'))).length >= 6,
  );
  const registered = await json(gateway('/users'), {
    email,
    name: 'Compose',
    password: 'correct horse battery',
  });
  check(registered.id, `registered ${email}`);
  const { accessToken } = await json(gateway('/auth/token'), {
    email,
    password: 'correct horse battery',
  });
  check(accessToken, 'token issued');
  const { orderId } = await json(
    gateway('/orders'),
    { items: [{ sku: 'KEYBOARD-MX', quantity: 1 }] },
    accessToken,
  );
  check(orderId, `order ${orderId} accepted`);
  await waitUntil(
    'the order to be CONFIRMED',
    60_000,
    async () =>
      (await json(gateway(`/orders/${orderId}`), undefined, accessToken)).status === 'CONFIRMED',
  );
  log('order CONFIRMED');
  const mails = await waitUntil('two emails in Mailpit', 60_000, async () => {
    const found = await json(
      `http://127.0.0.1:${PORTS.mailpitUi}/api/v1/search?query=${encodeURIComponent(`to:${email}`)}`,
    );
    return (found.messages ?? []).length >= 2 ? found.messages : undefined;
  });
  log(`emails received: ${mails.map((m) => m.Subject).join(' | ')}`);

  const management = (path) =>
    json(`http://127.0.0.1:${PORTS.rabbitmqUi}/api${path}`, undefined, undefined, ADMIN);
  const { rabbitmq_version: version } = await management('/overview');
  check(/^4\.0\./.test(version), `RabbitMQ ${version} is the 4.0 that docker-compose.yml names`);
  if (cluster) {
    const nodes = (await management('/nodes')).filter((node) => node.running);
    check(
      nodes.length === 3,
      `three running RabbitMQ nodes (${nodes.map((n) => n.name).join(', ')})`,
    );
    const placed = (await management('/queues')).find((q) => q.name === 'inventory.order.placed');
    check(placed?.members?.length === 3, 'inventory.order.placed has a quorum member on each node');
  }
  const queues = (await management('/queues')).map((q) => q.name);
  for (const queue of [
    'inventory.order.placed',
    'orders.inventory.reserved',
    'email.user.registered',
    'email.order.confirmed.dlq',
  ]) {
    check(queues.includes(queue), `queue ${queue} exists`);
  }
  const connections = await management('/connections');
  for (const service of ['users', 'orders', 'inventory', 'email']) {
    const own = connections.filter((c) =>
      String(c.client_properties?.connection_name ?? '').startsWith(`${service}@`),
    );
    check(
      own.length > 0 && own.every((c) => c.user === service),
      `${service} connected as broker user "${service}"`,
    );
  }
  log('PASS: the stack runs, an order was confirmed, each service used its own broker user');
} catch (error) {
  failed = true;
  console.error(`[compose-test] FAIL: ${error.message}`);
  spawnSync('docker-compose', ['-p', PROJECT, ...files, ...profiles, 'ps'], {
    env,
    stdio: 'inherit',
  });
  spawnSync('docker-compose', ['-p', PROJECT, ...files, ...profiles, 'logs', '--tail', '40'], {
    env,
    stdio: 'inherit',
  });
} finally {
  compose('down', '-v', '-t', '5');
}
process.exit(failed ? 1 : 0);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
}

function check(condition, what) {
  if (!condition) throw new Error(`expected: ${what}`);
  log(`ok: ${what}`);
}

async function json(url, body, token, authorization) {
  const response = await fetch(url, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(authorization ? { authorization } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function waitUntil(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

function allHealthy() {
  const ids = execFileSync('docker-compose', ['-p', PROJECT, ...files, ...profiles, 'ps', '-q'], {
    cwd: root,
    env,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  if (ids.length < (cluster ? 9 : 7)) return false;
  return ids.every((id) => {
    const state = JSON.parse(
      execFileSync('podman', ['inspect', '--format', '{{json .State}}', id], { encoding: 'utf8' }),
    );
    return (
      state.Running &&
      (!state.Health ||
        state.Health.Status === 'healthy' ||
        state.Healthcheck?.Status === 'healthy')
    );
  });
}
