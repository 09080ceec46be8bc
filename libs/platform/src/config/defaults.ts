import { type ServiceName } from '@app/events';
import { parseDuration } from '../duration.js';

// Every default of the configuration (docs/contract.md section 7), each defined once: the
// service configuration falls back on them, and the libraries on the same constants when a
// caller leaves an option out.

/** Default ports of docs/contract.md section 3. */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  orders: 3000,
  users: 3001,
  inventory: 3002,
  email: 3003,
};
export const DEFAULT_OPS_PORT = 9000;
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_USERS_URL = 'http://127.0.0.1:3001';
export const DEFAULT_INVENTORY_URL = 'http://127.0.0.1:3002';
/** A service's own database on the local PostgreSQL. */
export function defaultDatabaseUrl(service: ServiceName): string {
  return `postgres://postgres@127.0.0.1:5432/${service}`;
}
/** Loopback by default: a service reachable from elsewhere is a deployment decision (HOST). */
export const DEFAULT_HOST = '127.0.0.1';
/** Above the idle timeout of the usual load balancers (AWS ALB 60 s, nginx 75 s is upstream). */
export const DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT = '65s';
/** Shortest internal token accepted: 32 characters (`openssl rand -hex 32` gives 64). */
export const MIN_INTERNAL_TOKEN_LENGTH = 32;

/** `quorum` in production; `classic` only as a labelled development mode. */
export const DEFAULT_QUEUE_TYPE = 'quorum';
/** Unacknowledged messages per consumer, and the range accepted. */
export const DEFAULT_PREFETCH = 50;
export const MIN_PREFETCH = 1;
export const MAX_PREFETCH = 10_000;
/** The quorum queues' `x-delivery-limit`, and the range accepted. */
export const DEFAULT_DELIVERY_LIMIT = 10;
export const MIN_DELIVERY_LIMIT = 2;
export const MAX_DELIVERY_LIMIT = 1_000;
/** The retry levels' delays as `RETRY_DELAYS` writes them; each names its wait queue. */
export const DEFAULT_RETRY_DELAYS = '1s,10s,60s,5m';
export const DEFAULT_RETRY_DELAY_LABELS: readonly string[] = DEFAULT_RETRY_DELAYS.split(',');
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = DEFAULT_RETRY_DELAY_LABELS.map((label) =>
  parseDuration(label, 'RETRY_DELAYS'),
);
export const DEFAULT_HANDLER_TIMEOUT = '30s';
export const DEFAULT_HANDLER_TIMEOUT_MS = parseDuration(DEFAULT_HANDLER_TIMEOUT, 'HANDLER_TIMEOUT');
/** ISO 4217 currency of the catalog, and of payloads that predate currencies (upcasting). */
export const DEFAULT_CURRENCY = 'EUR';
