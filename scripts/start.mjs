#!/usr/bin/env node
// npm start: runs the four built services as separate processes against the local RabbitMQ
// and PostgreSQL. Shared variables go to every service; <SERVICE>_DATABASE_URL,
// <SERVICE>_AMQP_URL, <SERVICE>_PORT and ORDERS_OPS_PORT go to that one service. Without
// JWT keys a throwaway Ed25519 pair is generated for the run. Ctrl-C stops all gracefully.
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = ['users', 'inventory', 'email', 'orders'];
const STOP_TIMEOUT_MS = 20_000;

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
  if (service === 'orders' && process.env.ORDERS_OPS_PORT)
    env.OPS_PORT = process.env.ORDERS_OPS_PORT;
  return env;
}

function start(service) {
  const entry = join(root, 'dist', 'apps', service, 'apps', service, 'src', 'main.js');
  if (!existsSync(entry)) {
    console.error(`[start] ${entry} is missing: run npm run build first (npm start does).`);
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
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
for (const service of SERVICES) start(service);
