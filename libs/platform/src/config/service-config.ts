import { parseDuration } from '../duration.js';

export type ServiceName = 'orders' | 'users' | 'inventory' | 'email';

/** Default ports of DESIGN section 3. */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orders: 3000,
  users: 3001,
  inventory: 3002,
  email: 3003,
};
export const DEFAULT_OPS_PORT = 9000;
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_USERS_URL = 'http://127.0.0.1:3001';

/** The configuration of DESIGN section 7, validated once at boot. */
export interface ServiceConfig {
  service: ServiceName;
  production: boolean;
  amqpUrl: string;
  databaseUrl: string;
  port: number;
  opsPort: number;
  usersUrl: string;
  usersTimeoutMs: number;
  smtpUrl: string | undefined;
  smtpFrom: string;
  jwtPrivateKey: string | undefined;
  jwtPublicKey: string | undefined;
  jwtTtlMs: number;
  queueType: 'quorum' | 'classic';
  prefetch: number;
  deliveryLimit: number;
  retryDelaysMs: number[];
  handlerTimeoutMs: number;
  orderPaymentTimeoutMs: number;
  orderReservationTimeoutMs: number;
  defaultCurrency: string;
  logLevel: string;
  /** Requests per minute per IP to the gateway's `/users` and `/auth/token`; half per email. */
  rateLimitPerMinute: number;
}

/** Every environment variable a service reads (deployment manifests are checked against it). */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'AMQP_URL',
  'DATABASE_URL',
  'PORT',
  'OPS_PORT',
  'USERS_URL',
  'USERS_TIMEOUT',
  'SMTP_URL',
  'SMTP_FROM',
  'JWT_PRIVATE_KEY',
  'JWT_PUBLIC_KEY',
  'JWT_TTL',
  'QUEUE_TYPE',
  'PREFETCH',
  'DELIVERY_LIMIT',
  'RETRY_DELAYS',
  'HANDLER_TIMEOUT',
  'ORDER_PAYMENT_TIMEOUT',
  'ORDER_RESERVATION_TIMEOUT',
  'DEFAULT_CURRENCY',
  'LOG_LEVEL',
  'RATE_LIMIT_PER_MINUTE',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
] as const;

/** A configuration error: the message names the variable and what it accepts. */
export class ConfigError extends Error {}

/** Reads and validates the environment; throws one `ConfigError` listing every bad variable. */
export function loadServiceConfig(
  service: ServiceName,
  env: NodeJS.ProcessEnv = process.env,
): ServiceConfig {
  const problems: string[] = [];
  const read = <T>(name: string, fallback: string | undefined, parse: (value: string) => T): T => {
    const raw = env[name] === undefined || env[name] === '' ? fallback : env[name];
    try {
      return parse(raw ?? '');
    } catch (error) {
      problems.push((error as Error).message);
      return undefined as T;
    }
  };
  const url = (name: string, protocols: string[]) => (value: string) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(`${name}="${value}" is not a URL.`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(
        `${name}="${redact(value)}" must start with ${protocols.join(' or ')}//.`,
      );
    }
    return value;
  };
  const integer = (name: string, min: number, max: number) => (value: string) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new ConfigError(`${name}="${value}" must be an integer from ${min} to ${max}.`);
    }
    return number;
  };
  const duration = (name: string) => (value: string) => {
    try {
      return parseDuration(value, name);
    } catch (error) {
      throw new ConfigError((error as Error).message);
    }
  };
  const pem = (name: string, kind: 'PRIVATE' | 'PUBLIC') => (value: string) => {
    if (!value) return undefined;
    const text = value.replace(/\\n/g, '\n');
    if (!text.includes(`-----BEGIN ${kind} KEY-----`)) {
      throw new ConfigError(
        `${name} must be an Ed25519 ${kind.toLowerCase()} key in PEM ("-----BEGIN ${kind} KEY-----").`,
      );
    }
    return text;
  };
  const production = env.NODE_ENV === 'production';
  const config: ServiceConfig = {
    service,
    production,
    // One broker, or the nodes of a cluster separated by commas (tried in turn on reconnect).
    amqpUrl: read('AMQP_URL', DEFAULT_AMQP_URL, (value) =>
      value
        .split(',')
        .map((part) => url('AMQP_URL', ['amqp:', 'amqps:'])(part.trim()))
        .join(','),
    ),
    databaseUrl: read(
      'DATABASE_URL',
      `postgres://postgres@127.0.0.1:5432/${service}`,
      url('DATABASE_URL', ['postgres:', 'postgresql:']),
    ),
    port: read('PORT', String(DEFAULT_PORTS[service]), integer('PORT', 1, 65_535)),
    opsPort: read('OPS_PORT', String(DEFAULT_OPS_PORT), integer('OPS_PORT', 1, 65_535)),
    usersUrl: read('USERS_URL', DEFAULT_USERS_URL, url('USERS_URL', ['http:', 'https:'])),
    usersTimeoutMs: read('USERS_TIMEOUT', '3s', duration('USERS_TIMEOUT')),
    smtpUrl: read('SMTP_URL', undefined, (value) =>
      value ? url('SMTP_URL', ['smtp:', 'smtps:'])(value) : undefined,
    ),
    smtpFrom: read('SMTP_FROM', 'Commerce <no-reply@commerce.local>', (value) => value),
    jwtPrivateKey: read('JWT_PRIVATE_KEY', undefined, pem('JWT_PRIVATE_KEY', 'PRIVATE')),
    jwtPublicKey: read('JWT_PUBLIC_KEY', undefined, pem('JWT_PUBLIC_KEY', 'PUBLIC')),
    jwtTtlMs: read('JWT_TTL', '1h', duration('JWT_TTL')),
    queueType: read('QUEUE_TYPE', 'quorum', (value) => {
      if (value !== 'quorum' && value !== 'classic') {
        throw new ConfigError(
          `QUEUE_TYPE="${value}" must be quorum or classic (classic only in development).`,
        );
      }
      return value;
    }),
    prefetch: read('PREFETCH', '50', integer('PREFETCH', 1, 10_000)),
    deliveryLimit: read('DELIVERY_LIMIT', '10', integer('DELIVERY_LIMIT', 2, 1_000)),
    retryDelaysMs: read('RETRY_DELAYS', '1s,10s,60s,5m', (value) =>
      value.split(',').map((part, index) => duration(`RETRY_DELAYS[${index}]`)(part.trim())),
    ),
    handlerTimeoutMs: read('HANDLER_TIMEOUT', '30s', duration('HANDLER_TIMEOUT')),
    orderPaymentTimeoutMs: read('ORDER_PAYMENT_TIMEOUT', '15m', duration('ORDER_PAYMENT_TIMEOUT')),
    orderReservationTimeoutMs: read(
      'ORDER_RESERVATION_TIMEOUT',
      '2m',
      duration('ORDER_RESERVATION_TIMEOUT'),
    ),
    defaultCurrency: read('DEFAULT_CURRENCY', 'EUR', (value) => {
      if (!/^[A-Z]{3}$/.test(value))
        throw new ConfigError(`DEFAULT_CURRENCY="${value}" must be an ISO 4217 code like EUR.`);
      return value;
    }),
    rateLimitPerMinute: read(
      'RATE_LIMIT_PER_MINUTE',
      '60',
      integer('RATE_LIMIT_PER_MINUTE', 1, 1_000_000),
    ),
    logLevel: read('LOG_LEVEL', 'info', (value) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(value)) {
        throw new ConfigError(
          `LOG_LEVEL="${value}" must be one of fatal, error, warn, info, debug, trace, silent.`,
        );
      }
      return value;
    }),
  };
  if (production && service === 'users' && !config.jwtPrivateKey) {
    problems.push('JWT_PRIVATE_KEY is required in production (an Ed25519 private key in PEM).');
  }
  if (production && service === 'orders' && !config.jwtPublicKey) {
    problems.push('JWT_PUBLIC_KEY is required in production (an Ed25519 public key in PEM).');
  }
  if (problems.length) {
    throw new ConfigError(`Invalid configuration for ${service}:\n  - ${problems.join('\n  - ')}`);
  }
  return config;
}

/** Hides the password of a URL (or of each URL of a comma-separated list) for log lines. */
export function redact(url: string): string {
  return url
    .split(',')
    .map((part) => {
      try {
        const parsed = new URL(part.trim());
        if (parsed.password) parsed.password = '***';
        return parsed.toString();
      } catch {
        return part;
      }
    })
    .join(',');
}
