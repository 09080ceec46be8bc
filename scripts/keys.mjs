#!/usr/bin/env node
// npm run keys: writes a fresh Ed25519 key pair to .env (JWT_PRIVATE_KEY, JWT_PUBLIC_KEY) for
// docker compose. Keep .env out of version control; use real secrets in production.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const pem = (key, type) =>
  key.export({ type, format: 'pem' }).toString().trim().replace(/\n/g, '\\n');
const kept = existsSync('.env')
  ? readFileSync('.env', 'utf8')
      .split('\n')
      .filter((line) => line && !/^JWT_(PRIVATE|PUBLIC)_KEY=/.test(line))
  : [];
writeFileSync(
  '.env',
  [
    ...kept,
    `JWT_PRIVATE_KEY="${pem(privateKey, 'pkcs8')}"`,
    `JWT_PUBLIC_KEY="${pem(publicKey, 'spki')}"`,
    '',
  ].join('\n'),
);
console.log('wrote JWT_PRIVATE_KEY and JWT_PUBLIC_KEY to .env');
