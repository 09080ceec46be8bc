import { type ServiceName } from '@app/events';
import { parseDuration } from '../duration.js';
import {
  DEFAULT_AMQP_URL,
  DEFAULT_CURRENCY,
  DEFAULT_DELIVERY_LIMIT,
  DEFAULT_HANDLER_TIMEOUT,
  DEFAULT_HOST,
  DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT,
  DEFAULT_OPS_PORT,
  DEFAULT_PORTS,
  DEFAULT_PREFETCH,
  DEFAULT_QUEUE_TYPE,
  DEFAULT_RETRY_DELAYS,
  DEFAULT_USERS_URL,
  DEFAULT_INVENTORY_URL,
  MAX_DELIVERY_LIMIT,
  MAX_PREFETCH,
  MIN_DELIVERY_LIMIT,
  MIN_INTERNAL_TOKEN_LENGTH,
  MIN_PREFETCH,
  defaultDatabaseUrl,
} from './defaults.js';

/** The configuration of docs/contract.md section 7, validated once at boot. */
export interface ServiceConfig {
  service: ServiceName;
  production: boolean;
  amqpUrl: string;
  databaseUrl: string;
  port: number;
  /** The address the HTTP server binds (`HOST`). */
  host: string;
  /** Express `trust proxy` (`TRUST_PROXY`): `false`, or the proxies whose X-Forwarded-For counts. */
  trustProxy: false | string[];
  /**
   * `INTERNAL_TOKEN`: the bearer tokens internal HTTP accepts (the first is the one sent), so a
   * new token can be rolled out next to the old one. Empty only in development, where internal
   * endpoints then answer loopback callers only.
   */
  internalTokens: string[];
  keepAliveTimeoutMs: number;
  headersTimeoutMs: number;
  opsPort: number;
  usersUrl: string;
  usersTimeoutMs: number;
  /** Where the gateway reaches inventory's internal API (the admin commands). */
  inventoryUrl: string;
  inventoryTimeoutMs: number;
  /**
   * `SEED_CATALOG`: inventory adds the demo catalog at boot (the SKUs it lacks), through the
   * same code path as an admin's command. On by default, as the seed migration it replaces
   * was; a real shop sets it to false and adds its products through the admin API.
   */
  seedCatalog: boolean;
  smtpUrl: string | undefined;
  smtpFrom: string;
  jwtPrivateKey: string | undefined;
  jwtPublicKey: string | undefined;
  jwtTtlMs: number;
  queueType: 'quorum' | 'classic';
  prefetch: number;
  deliveryLimit: number;
  retryDelaysMs: number[];
  /** `RETRY_DELAYS` as written, one per delay (`1s`, `60s`): the wait queues' names. */
  retryDelayLabels: string[];
  handlerTimeoutMs: number;
  orderPaymentTimeoutMs: number;
  orderReservationTimeoutMs: number;
  defaultCurrency: string;
  logLevel: string;
  /** Requests per minute per IP to the gateway's `/users` and `/auth/token`; half per email. */
  rateLimitPerMinute: number;
  /** Order writes (place, pay, cancel) per minute per user on the gateway. */
  orderRateLimitPerMinute: number;
  /** Orders a user may have open (not yet confirmed, rejected, cancelled or expired). */
  maxOpenOrders: number;
}

/** Every environment variable a service reads (deployment manifests are checked against it). */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'AMQP_URL',
  'DATABASE_URL',
  'PORT',
  'HOST',
  'TRUST_PROXY',
  'INTERNAL_TOKEN',
  'HTTP_KEEP_ALIVE_TIMEOUT',
  'HTTP_HEADERS_TIMEOUT',
  'OPS_PORT',
  'USERS_URL',
  'USERS_TIMEOUT',
  'INVENTORY_URL',
  'INVENTORY_TIMEOUT',
  'SEED_CATALOG',
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
  'ORDER_RATE_LIMIT_PER_MINUTE',
  'MAX_OPEN_ORDERS',
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
  // Each delay as written, too: it names the delay's wait queue (`60s` stays `60s`).
  const retryDelays = read('RETRY_DELAYS', DEFAULT_RETRY_DELAYS, (value) =>
    value.split(',').map((part, index) => ({
      ms: duration(`RETRY_DELAYS[${index}]`)(part.trim()),
      label: part.trim(),
    })),
  );
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
      defaultDatabaseUrl(service),
      url('DATABASE_URL', ['postgres:', 'postgresql:']),
    ),
    port: read('PORT', String(DEFAULT_PORTS[service]), integer('PORT', 1, 65_535)),
    host: read('HOST', DEFAULT_HOST, (value) => {
      if (!/^[0-9a-fA-F.:]+$|^[A-Za-z0-9.-]+$/.test(value))
        throw new ConfigError(
          `HOST="${value}" must be an address (0.0.0.0, ::, 127.0.0.1) or name.`,
        );
      return value;
    }),
    trustProxy: read('TRUST_PROXY', 'false', (value) => {
      if (value === 'false') return false;
      const proxies = value.split(',').map((part) => part.trim());
      for (const proxy of proxies)
        if (!/^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/.test(proxy))
          throw new ConfigError(
            `TRUST_PROXY="${value}" must be false or a comma-separated list of proxy addresses or CIDRs (or loopback, linklocal, uniquelocal).`,
          );
      return proxies;
    }),
    internalTokens: read('INTERNAL_TOKEN', '', (value) => {
      const tokens = value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
      for (const token of tokens)
        if (token.length < MIN_INTERNAL_TOKEN_LENGTH || /\s/.test(token))
          throw new ConfigError(
            `INTERNAL_TOKEN must hold tokens of at least ${MIN_INTERNAL_TOKEN_LENGTH} characters without spaces, separated by commas (generate one with: openssl rand -hex 32).`,
          );
      return tokens;
    }),
    keepAliveTimeoutMs: read(
      'HTTP_KEEP_ALIVE_TIMEOUT',
      DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT,
      duration('HTTP_KEEP_ALIVE_TIMEOUT'),
    ),
    headersTimeoutMs: read('HTTP_HEADERS_TIMEOUT', '', (value) =>
      value ? duration('HTTP_HEADERS_TIMEOUT')(value) : 0,
    ),
    opsPort: read('OPS_PORT', String(DEFAULT_OPS_PORT), integer('OPS_PORT', 1, 65_535)),
    usersUrl: read('USERS_URL', DEFAULT_USERS_URL, url('USERS_URL', ['http:', 'https:'])),
    usersTimeoutMs: read('USERS_TIMEOUT', '3s', duration('USERS_TIMEOUT')),
    inventoryUrl: read(
      'INVENTORY_URL',
      DEFAULT_INVENTORY_URL,
      url('INVENTORY_URL', ['http:', 'https:']),
    ),
    inventoryTimeoutMs: read('INVENTORY_TIMEOUT', '3s', duration('INVENTORY_TIMEOUT')),
    seedCatalog: read('SEED_CATALOG', 'true', (value) => {
      if (value !== 'true' && value !== 'false')
        throw new ConfigError(`SEED_CATALOG="${value}" must be true or false.`);
      return value === 'true';
    }),
    smtpUrl: read('SMTP_URL', undefined, (value) =>
      value ? url('SMTP_URL', ['smtp:', 'smtps:'])(value) : undefined,
    ),
    smtpFrom: read('SMTP_FROM', 'Commerce <no-reply@commerce.local>', (value) => value),
    jwtPrivateKey: read('JWT_PRIVATE_KEY', undefined, pem('JWT_PRIVATE_KEY', 'PRIVATE')),
    jwtPublicKey: read('JWT_PUBLIC_KEY', undefined, pem('JWT_PUBLIC_KEY', 'PUBLIC')),
    jwtTtlMs: read('JWT_TTL', '1h', duration('JWT_TTL')),
    queueType: read('QUEUE_TYPE', DEFAULT_QUEUE_TYPE, (value) => {
      if (value !== 'quorum' && value !== 'classic') {
        throw new ConfigError(
          `QUEUE_TYPE="${value}" must be quorum or classic (classic only in development).`,
        );
      }
      return value;
    }),
    prefetch: read(
      'PREFETCH',
      String(DEFAULT_PREFETCH),
      integer('PREFETCH', MIN_PREFETCH, MAX_PREFETCH),
    ),
    deliveryLimit: read(
      'DELIVERY_LIMIT',
      String(DEFAULT_DELIVERY_LIMIT),
      integer('DELIVERY_LIMIT', MIN_DELIVERY_LIMIT, MAX_DELIVERY_LIMIT),
    ),
    retryDelaysMs: retryDelays.map((delay) => delay.ms),
    retryDelayLabels: retryDelays.map((delay) => delay.label),
    handlerTimeoutMs: read('HANDLER_TIMEOUT', DEFAULT_HANDLER_TIMEOUT, duration('HANDLER_TIMEOUT')),
    orderPaymentTimeoutMs: read('ORDER_PAYMENT_TIMEOUT', '15m', duration('ORDER_PAYMENT_TIMEOUT')),
    orderReservationTimeoutMs: read(
      'ORDER_RESERVATION_TIMEOUT',
      '2m',
      duration('ORDER_RESERVATION_TIMEOUT'),
    ),
    defaultCurrency: read('DEFAULT_CURRENCY', DEFAULT_CURRENCY, (value) => {
      if (!/^[A-Z]{3}$/.test(value))
        throw new ConfigError(`DEFAULT_CURRENCY="${value}" must be an ISO 4217 code like EUR.`);
      return value;
    }),
    rateLimitPerMinute: read(
      'RATE_LIMIT_PER_MINUTE',
      '60',
      integer('RATE_LIMIT_PER_MINUTE', 1, 1_000_000),
    ),
    orderRateLimitPerMinute: read(
      'ORDER_RATE_LIMIT_PER_MINUTE',
      '120',
      integer('ORDER_RATE_LIMIT_PER_MINUTE', 1, 1_000_000),
    ),
    maxOpenOrders: read('MAX_OPEN_ORDERS', '20', integer('MAX_OPEN_ORDERS', 1, 1_000_000)),
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
  // Headers must arrive before the connection may idle out, or Node drops a reused connection.
  if (config.keepAliveTimeoutMs !== undefined && !config.headersTimeoutMs)
    config.headersTimeoutMs = config.keepAliveTimeoutMs + 1000;
  else if (config.headersTimeoutMs && config.headersTimeoutMs <= config.keepAliveTimeoutMs)
    problems.push('HTTP_HEADERS_TIMEOUT must be longer than HTTP_KEEP_ALIVE_TIMEOUT.');
  if (production && config.internalTokens?.length === 0) {
    problems.push(
      'INTERNAL_TOKEN is required in production: the token internal HTTP callers present (the same in every service; generate one with openssl rand -hex 32).',
    );
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
