#!/usr/bin/env node
// npm start: runs the four built services as separate processes against the local RabbitMQ
// and PostgreSQL. Shared variables go to every service; <SERVICE>_DATABASE_URL,
// <SERVICE>_AMQP_URL, <SERVICE>_PORT and ORDERS_OPS_PORT go to that one service, and the
// gateway's USERS_URL follows USERS_PORT (INVENTORY_URL, INVENTORY_PORT) unless it is set.
// It builds first only when a source changed (--no-build skips that), and checks that the
// broker and the databases answer before it starts anything. Without JWT keys a throwaway Ed25519 pair is generated for the
// run. SIGINT (Ctrl-C) or SIGTERM to the pid it prints stops all four gracefully.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { buildIfStale, entryOf, root, SERVICES } from './build-if-stale.mjs';

/** The node flags of every service process (scripts/service-node-flags.json). */
const SERVICE_NODE_FLAGS = JSON.parse(
  readFileSync(join(root, 'scripts', 'service-node-flags.json'), 'utf8'),
).flags;

const STOP_TIMEOUT_MS = 20_000;
const PROBE_TIMEOUT_MS = 3_000;
const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

const shared = { ...process.env };
// Each service owns its database: a shared DATABASE_URL would point all four at one.
delete shared.DATABASE_URL;
if (!shared.JWT_PRIVATE_KEY || !shared.JWT_PUBLIC_KEY) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  shared.JWT_PRIVATE_KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  shared.JWT_PUBLIC_KEY = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  console.log('[start] no JWT keys given: generated a throwaway Ed25519 key pair for this run');
}

const children = new Map();
let stopping = false;

function envFor(service) {
  const upper = service.toUpperCase();
  const env = { ...shared };
  for (const name of ['DATABASE_URL', 'AMQP_URL', 'PORT']) {
    const specific = process.env[`${upper}_${name}`];
    if (specific) env[name] = specific;
    else if (name === 'PORT') delete env.PORT;
  }
  if (service === 'orders') {
    if (process.env.ORDERS_OPS_PORT) env.OPS_PORT = process.env.ORDERS_OPS_PORT;
    // The launcher moved users: tell the gateway, unless it was told explicitly.
    if (!process.env.USERS_URL && process.env.USERS_PORT)
      env.USERS_URL = `http://127.0.0.1:${process.env.USERS_PORT}`;
    if (!process.env.INVENTORY_URL && process.env.INVENTORY_PORT)
      env.INVENTORY_URL = `http://127.0.0.1:${process.env.INVENTORY_PORT}`;
  }
  return env;
}

/** The broker node and database server a service connects to first, as host:port. */
function endpointsOf(service) {
  const env = envFor(service);
  const amqp = new URL((env.AMQP_URL ?? DEFAULT_AMQP_URL).split(',')[0].trim());
  const database = new URL(env.DATABASE_URL ?? `postgres://postgres@127.0.0.1:5432/${service}`);
  return [
    {
      what: 'RabbitMQ',
      host: amqp.hostname,
      port: Number(amqp.port || (amqp.protocol === 'amqps:' ? 5671 : 5672)),
    },
    { what: 'PostgreSQL', host: database.hostname, port: Number(database.port || 5432) },
  ];
}

function reachable({ host, port }) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (error) => {
      socket.destroy();
      resolve(error);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once('error', done);
  });
}

/** Stops before starting anything when the broker or PostgreSQL does not answer. */
async function checkInfrastructure() {
  const seen = new Map();
  for (const service of SERVICES)
    for (const endpoint of endpointsOf(service))
      seen.set(`${endpoint.what} ${endpoint.host}:${endpoint.port}`, endpoint);
  const failures = [];
  for (const [name, endpoint] of seen) {
    const error = await reachable(endpoint);
    if (error) failures.push(`${name} does not answer (${error.message})`);
  }
  if (!failures.length) return;
  for (const failure of failures) console.error(`[start] ${failure}.`);
  console.error(
    '[start] Start the local RabbitMQ and PostgreSQL with: npm run services ' +
      '(npm run services -- --install installs them first when they are missing; apt, as root). ' +
      'Elsewhere, point AMQP_URL and <SERVICE>_DATABASE_URL at yours.',
  );
  process.exit(1);
}

function start(service) {
  const entry = entryOf(service);
  if (!existsSync(entry)) {
    console.error(`[start] ${entry} is missing: run npm run build first (npm start does).`);
    process.exit(1);
  }
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, entry], {
    cwd: root,
    env: envFor(service),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${service}]`.padEnd(12);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`${prefix}${line}\n`),
    );
  }
  child.on('exit', (code, signal) => {
    children.delete(service);
    console.log(`[start] ${service} exited (${signal ?? code})`);
    if (!stopping) stop(code || 1);
    else if (!children.size) process.exit(process.exitCode ?? 0);
  });
  children.set(service, child);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  console.log('[start] stopping all services');
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(process.exitCode ?? 1);
  }, STOP_TIMEOUT_MS).unref();
  if (!children.size) process.exit(code);
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
if (!process.argv.includes('--no-build') && !buildIfStale())
  console.log('[start] the build is up to date with the sources: not rebuilding');
await checkInfrastructure();
console.log(
  `[start] launcher pid ${process.pid}: Ctrl-C or kill -TERM ${process.pid} stops all four services`,
);
for (const service of SERVICES) start(service);
