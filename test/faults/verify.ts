import { type CloudEvent } from '@app/events';
import { BrokerProbe, management, queryOn, type ReceivedMail } from '@app/testing';
import { type GetMessage } from 'amqplib';
import { type Cluster } from '../support/cluster.js';
import { type Injected } from './faults.js';
import { type AdminDriver } from './admin-load.js';
import { type Item, type LoadDriver, type OrderRequest } from './load.js';
import { type EventTap, type TappedEvent } from './tap.js';

/** One period of the run: the baseline, then each fault from its injection to the next one. */
export interface Phase {
  name: string;
  /** Milliseconds since the load started. */
  startedAt: number;
  /** How long the system took to be ready again (0 for the baseline). */
  recoveryMs: number;
  note: string;
}

export type FindingKind = 'lost' | 'duplicated' | 'violation';

export interface Finding {
  kind: FindingKind;
  phase: number;
  what: string;
}

export interface Verdict {
  findings: Finding[];
  /** Emails received again with a Message-ID already seen, per phase. */
  resent: number[];
  /** Orders the saga rejected at their reservation deadline (stock released), per phase. */
  rejectedByDeadline: number[];
  /** Accepted orders per phase. */
  orders: number[];
  accepted: number;
  deadLettered: number;
  stock: {
    sku: string;
    onHand: number;
    reserved: number;
    expectedOnHand: number;
    expectedReserved: number;
  }[];
}

/** The reason of the saga's rejection at the reservation deadline. */
const DEADLINE_REASON = 'No reservation outcome in time';

const TEMPLATE_OF: Record<string, string> = {
  'user.registered': 'welcome',
  'order.confirmed': 'order-confirmed',
  'order.rejected': 'order-rejected',
  'order.cancelled': 'order-cancelled',
  'payment.processed': 'payment-received',
};

/** Expected reservation states for each final order status. */
const RESERVATION_FOR: Record<string, string[]> = {
  CONFIRMED: ['RESERVED'],
  PAID: ['SOLD'],
  // FAILED: short of stock; RELEASED: reserved after the saga's deadline, then released;
  // REJECTED: the rejection reached inventory before order.placed.
  REJECTED: ['FAILED', 'RELEASED', 'REJECTED'],
  CANCELLED: ['RELEASED', 'CANCELLED', 'FAILED'],
};

/** Names of the vhost's queues (the management API lists them; their figures lag, names do not). */
async function queueNames(cluster: Cluster): Promise<string[]> {
  const queues = await management<{ name: string }[]>(
    'GET',
    `/queues/${encodeURIComponent(cluster.vhost.name)}?columns=name`,
    undefined,
    cluster.vhost.broker,
  );
  return queues.map((q) => q.name);
}

/**
 * Ready messages of every queue of the vhost, exact: read with a passive declare, which the
 * queue itself answers. The management API's figures lag by seconds, so they cannot prove a
 * queue empty.
 */
export async function queueDepths(cluster: Cluster): Promise<{ name: string; messages: number }[]> {
  const names = await queueNames(cluster);
  const probe = await BrokerProbe.open(cluster.vhost.url);
  try {
    const depths: { name: string; messages: number }[] = [];
    for (const name of names) depths.push({ name, messages: await probe.depth(name) });
    return depths;
  } finally {
    await probe.close();
  }
}

/** Deliveries the consumers hold and have not settled (`messaging_deliveries_in_flight`). */
async function deliveriesInFlight(cluster: Cluster): Promise<string[]> {
  const busy: string[] = [];
  for (const replica of cluster.processes.filter((p) => p.running)) {
    const text = await (await fetch(replica.metricsUrl())).text();
    const count = Number(
      /^messaging_deliveries_in_flight(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0,
    );
    if (count) busy.push(`${replica.name} handling ${count}`);
  }
  return busy;
}

/** Unsent outbox rows per service database. */
export async function pendingOutbox(cluster: Cluster): Promise<Record<string, number>> {
  const pending: Record<string, number> = {};
  for (const [service, database] of Object.entries(cluster.databases)) {
    const [row] = await queryOn<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM messaging_outbox WHERE sent_at IS NULL`,
    );
    pending[service] = row!.n;
  }
  return pending;
}

/**
 * What is still moving, from exact counts: ready messages in a queue (but the tap and the DLQs),
 * deliveries a consumer holds, unsent outbox rows, PENDING orders.
 */
export async function inFlight(cluster: Cluster): Promise<string[]> {
  const busy = (await queueDepths(cluster))
    .filter((q) => q.messages > 0 && q.name !== 'faults.tap' && !q.name.endsWith('.dlq'))
    .map((q) => `${q.name}: ${q.messages}`);
  busy.push(...(await deliveriesInFlight(cluster)));
  for (const [service, n] of Object.entries(await pendingOutbox(cluster))) {
    if (n) busy.push(`${service} outbox: ${n}`);
  }
  const [pending] = await queryOn<{ n: number }>(
    cluster.databases.orders.url,
    `SELECT count(*)::int AS n FROM orders_view WHERE status = 'PENDING'`,
  );
  if (pending!.n) busy.push(`PENDING orders: ${pending!.n}`);
  return busy;
}

/** Takes every message off every DLQ of the vhost. */
async function drainDeadLetters(cluster: Cluster): Promise<Map<string, GetMessage[]>> {
  const queues = (await queueNames(cluster)).filter((name) => name.endsWith('.dlq'));
  const probe = await BrokerProbe.open(cluster.vhost.url);
  try {
    const drained = new Map<string, GetMessage[]>();
    for (const name of queues) drained.set(name, await probe.drain(name));
    return drained;
  } finally {
    await probe.close();
  }
}

/**
 * Events the tap saw that must reach a customer by email, with no email at the sink yet: each
 * event of `TEMPLATE_OF` for a registered customer, but the poison the suite sent.
 */
export function missingEmails(
  tap: EventTap,
  load: LoadDriver,
  mails: ReceivedMail[],
  poisonIds: Set<string>,
): { event: TappedEvent; template: string; orderId?: string }[] {
  const knownUsers = new Set(load.customers.map((c) => c.id));
  const sent = new Set(
    mails
      .map((mail) => parseMessageId(mail.messageId))
      .filter((parsed) => parsed !== undefined)
      .map((parsed) => `${parsed.eventId}.${parsed.template}`),
  );
  const missing: { event: TappedEvent; template: string; orderId?: string }[] = [];
  for (const event of tap.events.values()) {
    const template = TEMPLATE_OF[event.type];
    const data = event.envelope?.data as { userId?: string; orderId?: string } | undefined;
    if (!template || poisonIds.has(event.id) || !data?.userId || !knownUsers.has(data.userId))
      continue;
    if (!sent.has(`${event.id}.${template}`))
      missing.push({ event, template, orderId: data.orderId });
  }
  return missing;
}

/** `<event id.template@domain>` -> its parts. */
function parseMessageId(messageId: string): { eventId: string; template: string } | undefined {
  const match = /^<([0-9a-f-]{36})\.([a-z-]+)@[^>]+>$/i.exec(messageId);
  return match ? { eventId: match[1]!, template: match[2]! } : undefined;
}

const sumBySku = (items: Item[], into: Map<string, number>) => {
  for (const item of items) into.set(item.sku, (into.get(item.sku) ?? 0) + item.quantity);
};

/**
 * The checks of the suite. Each finding is attributed to the phase in which its order was
 * requested (or to the fault that sent the message it is about).
 */
export async function verify(options: {
  cluster: Cluster;
  load: LoadDriver;
  tap: EventTap;
  injected: Injected;
  phases: Phase[];
  phaseOfFault: (name: string) => number;
  initialStock: Map<string, number>;
  /** The administrator's accepted stock receipts and price changes during the load. */
  admin: AdminDriver;
  mails: ReceivedMail[];
}): Promise<Verdict> {
  const { cluster, load, tap, injected, phases } = options;
  await tap.collect();
  const findings: Finding[] = [];
  const phaseAt = (t: number) =>
    phases.reduce((found, phase, i) => (phase.startedAt <= t ? i : found), 0);
  const orderPhase = new Map<string, number>();
  const accepted = load.accepted();
  for (const request of accepted)
    orderPhase.set([...request.orderIds][0]!, phaseAt(request.requestedAt));
  for (const order of injected.reordered)
    orderPhase.set(order.orderId, options.phaseOfFault('reordered deliveries'));
  const dupPhase = options.phaseOfFault('duplicated deliveries');
  for (const id of injected.duplicates) {
    const subject = tap.events.get(id)?.subject;
    if (subject && orderPhase.has(subject)) orderPhase.set(subject, dupPhase);
  }
  const phaseOfOrder = (orderId: string | undefined): number =>
    (orderId ? orderPhase.get(orderId) : undefined) ?? 0;
  const report = (kind: FindingKind, phase: number, what: string) =>
    findings.push({ kind, phase, what });

  const orders = new Map(
    (
      await queryOn<{ order_id: string; status: string; items: Item[] }>(
        cluster.databases.orders.url,
        `SELECT order_id, status, items FROM orders_view`,
      )
    ).map((row) => [row.order_id, row]),
  );
  const rejections = new Map(
    (
      await queryOn<{ stream_id: string; data: { shortSkus: string[]; reason: string } }>(
        cluster.databases.orders.url,
        `SELECT stream_id, data FROM order_events WHERE type = 'order.rejected'`,
      )
    ).map((row) => [row.stream_id, row.data]),
  );
  const reservations = new Map(
    (
      await queryOn<{ order_id: string; status: string }>(
        cluster.databases.inventory.url,
        `SELECT order_id, status FROM reservations`,
      )
    ).map((row) => [row.order_id, row.status]),
  );
  const stockRows = await queryOn<{ sku: string; on_hand: number; reserved: number }>(
    cluster.databases.inventory.url,
    `SELECT sku, on_hand, reserved FROM stock ORDER BY sku`,
  );

  // 1. Every accepted request: one order, in the state its commands and the stock allow.
  const acceptedIds = new Set<string>();
  const rejectedByDeadline = phases.map(() => 0);
  for (const request of accepted) {
    const ids = [...request.orderIds];
    const orderId = ids[0]!;
    const phase = phaseOf(request);
    ids.forEach((id) => acceptedIds.add(id));
    if (ids.length > 1)
      report('duplicated', phase, `key ${request.key} answered ${ids.length} orders`);
    const order = orders.get(orderId);
    if (!order) {
      report('lost', phase, `order ${orderId} was accepted but is not in the orders view`);
      continue;
    }
    const expected = expectedStatuses(request);
    if (!expected.includes(order.status)) {
      report(
        'lost',
        phase,
        `order ${orderId} is ${order.status}, expected ${expected.join(' or ')} (plan ${request.plan})`,
      );
    }
    // Rejected for a real shortage, or by the saga's reservation deadline (an outage or a
    // stall ran past it): then its stock must have come back, which the stock check proves.
    const rejection = rejections.get(orderId);
    if (order.status === 'REJECTED' && rejection?.reason === DEADLINE_REASON)
      rejectedByDeadline[phase] = (rejectedByDeadline[phase] ?? 0) + 1;
    else if (order.status === 'REJECTED' && !rejection?.shortSkus.length) {
      report(
        'lost',
        phase,
        `order ${orderId} was rejected without a stock shortage or a deadline: ${rejection?.reason}`,
      );
    }
    const reservation = reservations.get(orderId);
    if (!reservation) report('lost', phase, `inventory never saw order ${orderId}`);
    else if (!(RESERVATION_FOR[order.status] ?? []).includes(reservation)) {
      report(
        'lost',
        phase,
        `order ${orderId} is ${order.status} but its reservation is ${reservation}`,
      );
    }
  }
  function phaseOf(request: OrderRequest): number {
    return phaseOfOrder([...request.orderIds][0]);
  }
  for (const orderId of orders.keys()) {
    if (!acceptedIds.has(orderId)) {
      report('duplicated', 0, `order ${orderId} exists but no request was answered with it`);
    }
  }

  // 2. Stock: exact against the orders' final states, never negative.
  const reservedBySku = new Map<string, number>();
  const soldBySku = new Map<string, number>();
  // Receipts the administrator got an answer for, each applied once (section 10 checks how).
  const receivedBySku = new Map<string, number>();
  sumBySku(
    options.admin.receipts.map((r) => ({ sku: r.sku, quantity: r.units })),
    receivedBySku,
  );
  for (const order of orders.values()) {
    if (order.status === 'CONFIRMED') sumBySku(order.items, reservedBySku);
    if (order.status === 'PAID') sumBySku(order.items, soldBySku);
  }
  const stock = stockRows.map((row) => ({
    sku: row.sku,
    onHand: row.on_hand,
    reserved: row.reserved,
    expectedOnHand:
      (options.initialStock.get(row.sku) ?? 0) +
      (receivedBySku.get(row.sku) ?? 0) -
      (soldBySku.get(row.sku) ?? 0),
    expectedReserved: reservedBySku.get(row.sku) ?? 0,
  }));
  for (const s of stock) {
    if (s.onHand < 0 || s.reserved < 0) report('violation', 0, `stock of ${s.sku} is negative`);
    if (s.onHand !== s.expectedOnHand || s.reserved !== s.expectedReserved) {
      const kind =
        s.reserved > s.expectedReserved || s.onHand < s.expectedOnHand ? 'duplicated' : 'lost';
      report(
        kind,
        0,
        `stock of ${s.sku}: on hand ${s.onHand} (expected ${s.expectedOnHand}), reserved ${s.reserved} (expected ${s.expectedReserved})`,
      );
    }
  }

  // 3. Reordered deliveries: the early cancellation wins, nothing is reserved.
  for (const order of injected.reordered) {
    const status = reservations.get(order.orderId);
    if (status !== 'CANCELLED') {
      report(
        'violation',
        phaseOfOrder(order.orderId),
        `order ${order.orderId} cancelled before placed ended ${status ?? 'unseen'} in inventory`,
      );
    }
  }

  // 4. Events: at most one of each type per order (the catalog's events: section 10).
  const poisonIds = new Set(injected.poison.map((p) => p.id));
  const perSubject = new Map<string, Set<string>>();
  const catalogEvent = (type: string) => type.startsWith('product.') || type === 'stock.adjusted';
  for (const event of tap.events.values()) {
    if (!event.envelope || poisonIds.has(event.id) || catalogEvent(event.type)) continue;
    const key = `${event.type} ${event.subject}`;
    const ids = perSubject.get(key) ?? new Set<string>();
    ids.add(event.id);
    perSubject.set(key, ids);
  }
  for (const [key, ids] of perSubject) {
    if (ids.size > 1) {
      const subject = key.split(' ')[1];
      report('duplicated', phaseOfOrder(subject), `${ids.size} distinct ${key} events`);
    }
  }

  // 5. Emails: one distinct Message-ID per event and template; resends counted apart.
  const resent = phases.map(() => 0);
  const byMessageId = new Map<string, number>();
  for (const mail of [...options.mails].sort((a, b) => a.receivedAt - b.receivedAt)) {
    const seen = byMessageId.get(mail.messageId) ?? 0;
    // A resend is counted in the phase during which it arrived: the fault that caused it.
    if (seen) resent[phaseAt(load.sinceStart(mail.receivedAt))]! += 1;
    byMessageId.set(mail.messageId, seen + 1);
  }
  const subjectOfEvent = (eventId: string) => {
    const data = tap.events.get(eventId)?.envelope?.data as
      { orderId?: string; userId?: string } | undefined;
    return data?.orderId ?? data?.userId;
  };
  const distinctPerSubject = new Map<string, Set<string>>();
  for (const messageId of byMessageId.keys()) {
    const parsed = parseMessageId(messageId);
    if (!parsed) {
      report('violation', 0, `an email without an event Message-ID: ${messageId}`);
      continue;
    }
    const subject = subjectOfEvent(parsed.eventId);
    if (!subject) {
      report('violation', 0, `an email for event ${parsed.eventId}, which the tap never saw`);
      continue;
    }
    const key = `${parsed.template} ${subject}`;
    const ids = distinctPerSubject.get(key) ?? new Set<string>();
    ids.add(messageId);
    distinctPerSubject.set(key, ids);
  }
  for (const [key, ids] of distinctPerSubject) {
    if (ids.size > 1)
      report('duplicated', phaseOfOrder(key.split(' ')[1]), `${ids.size} distinct ${key} emails`);
  }
  for (const { event, template, orderId } of missingEmails(tap, load, options.mails, poisonIds)) {
    report('lost', phaseOfOrder(orderId), `no ${template} email for ${event.type} ${event.id}`);
  }

  // 6. Dead letters: every poison message where it belongs, with its headers; nothing else.
  const deadLetters = await drainDeadLetters(cluster);
  const poisonPhase = options.phaseOfFault('poison messages');
  const deadLettered = [...deadLetters.values()].reduce(
    (sum, messages) => sum + messages.length,
    0,
  );
  const expectedDead = new Set<string>();
  for (const poison of injected.poison) {
    for (const queue of poison.queues) {
      expectedDead.add(`${queue} ${poison.id}`);
      const message = deadLetters.get(queue)?.find((m) => m.properties.messageId === poison.id);
      if (!message) {
        report(
          'violation',
          poisonPhase,
          `${poison.exceptionType} poison ${poison.id} is not in ${queue}`,
        );
        continue;
      }
      const headers = message.properties.headers ?? {};
      const missing = [
        'x-exception-message',
        'x-original-exchange',
        'x-original-routing-key',
        'x-failed-at',
        'x-retry-count',
      ].filter((name) => headers[name] === undefined);
      if (headers['x-exception-type'] !== poison.exceptionType)
        missing.push(
          `x-exception-type=${poison.exceptionType} (got ${headers['x-exception-type']})`,
        );
      if (headers['x-failed-queue'] !== queue.replace(/\.dlq$/, '')) missing.push('x-failed-queue');
      if (missing.length)
        report(
          'violation',
          poisonPhase,
          `dead letter ${poison.id} in ${queue} lacks ${missing.join(', ')}`,
        );
    }
  }
  for (const [queue, messages] of deadLetters) {
    for (const message of messages) {
      if (expectedDead.has(`${queue} ${message.properties.messageId}`)) continue;
      const envelope = safeParse(message.content);
      report(
        'lost',
        phaseOfOrder((envelope?.data as { orderId?: string } | undefined)?.orderId),
        `${queue} holds ${envelope?.type ?? 'a message'} ${message.properties.messageId}: ${message.properties.headers?.['x-exception-type']} ${message.properties.headers?.['x-exception-message']}`,
      );
    }
  }

  // 7. What the injections themselves saw go wrong.
  for (const problem of injected.problems) {
    report('violation', options.phaseOfFault(problem.fault), problem.what);
  }

  // 8. HTTP: a fault may cost an answer (no connection, 503), never a 500.
  for (const failure of [...load.failures, ...options.admin.failures].filter((f) =>
    /: 500$/.test(f.what),
  )) {
    report(
      'violation',
      phaseAt(failure.at),
      `${failure.what} (an infrastructure fault must answer 503)`,
    );
  }

  // 10. The administrator's changes: each accepted receipt recorded once under its key, each
  // accepted price change applied once (the version counts them), and the gateway's catalog
  // projection at the same price and version as inventory.
  const { admin } = options;
  const recorded = await queryOn<{ idempotency_key: string | null; sku: string; change: number }>(
    cluster.databases.inventory.url,
    `SELECT idempotency_key, sku, change FROM stock_adjustments WHERE actor LIKE $1`,
    [`${admin.actor} (%`],
  );
  const recordedByKey = new Map(recorded.map((row) => [row.idempotency_key, row]));
  for (const receipt of admin.receipts) {
    const row = recordedByKey.get(receipt.key);
    if (!row || row.sku !== receipt.sku || row.change !== receipt.units)
      report(
        'lost',
        phaseAt(receipt.at),
        `stock receipt ${receipt.key} of ${receipt.sku} is not recorded`,
      );
  }
  const acceptedKeys = new Set(admin.receipts.map((r) => r.key));
  for (const row of recorded)
    if (!row.idempotency_key || !acceptedKeys.has(row.idempotency_key))
      report(
        'duplicated',
        0,
        `stock adjustment of ${row.sku} recorded without an accepted request`,
      );
  // Each accepted command announced once: one distinct event under its correlation id.
  const announced = new Map<string, Set<string>>();
  for (const event of tap.events.values()) {
    const correlationId = event.envelope?.correlationid;
    if (!correlationId || !catalogEvent(event.type)) continue;
    const key = `${event.type} ${correlationId}`;
    announced.set(key, (announced.get(key) ?? new Set()).add(event.id));
  }
  const commands = [
    ...admin.receipts.map((r) => ({ ...r, type: 'stock.adjusted', what: `receipt of ${r.sku}` })),
    ...admin.priceChanges.map((c) => ({
      ...c,
      type: 'product.updated',
      what: `price of ${c.sku}`,
    })),
  ];
  for (const command of commands) {
    const events = announced.get(`${command.type} ${command.correlationId}`)?.size ?? 0;
    if (events !== 1)
      report(
        events ? 'duplicated' : 'lost',
        phaseAt(command.at),
        `${command.what} (${command.correlationId}) announced by ${events} distinct ${command.type} events`,
      );
  }
  const inventoryPrices = new Map(
    (
      await queryOn<{ sku: string; price_cents: number; version: number }>(
        cluster.databases.inventory.url,
        `SELECT sku, price_cents, version FROM products`,
      )
    ).map((row) => [row.sku, row]),
  );
  const catalogPrices = new Map(
    (
      await queryOn<{ sku: string; price_cents: number; version: number }>(
        cluster.databases.orders.url,
        `SELECT sku, price_cents, version FROM catalog_products`,
      )
    ).map((row) => [row.sku, row]),
  );
  for (const sku of new Set(admin.priceChanges.map((c) => c.sku))) {
    const changes = admin.priceChanges.filter((c) => c.sku === sku);
    const last = changes.at(-1)!;
    const product = inventoryPrices.get(sku);
    const expectedVersion = 1 + changes.length;
    if (product?.price_cents !== last.priceCents || product.version !== expectedVersion)
      report(
        (product?.version ?? 0) > expectedVersion ? 'duplicated' : 'lost',
        phaseAt(last.at),
        `${sku} in inventory: price ${product?.price_cents} version ${product?.version} (expected ${last.priceCents} at version ${expectedVersion})`,
      );
    const projected = catalogPrices.get(sku);
    if (projected?.price_cents !== last.priceCents || projected.version !== expectedVersion)
      report(
        'lost',
        phaseAt(last.at),
        `${sku} in the gateway's catalog: price ${projected?.price_cents} version ${projected?.version} (expected ${last.priceCents} at version ${expectedVersion})`,
      );
  }

  // 9. Drained: retry and main queues empty, outboxes sent.
  for (const still of await inFlight(cluster)) report('violation', 0, `not drained: ${still}`);

  return {
    findings,
    resent,
    rejectedByDeadline,
    orders: phases.map((_, i) => accepted.filter((r) => phaseAt(r.requestedAt) === i).length),
    accepted: accepted.length,
    deadLettered,
    stock,
  };
}

function expectedStatuses(request: OrderRequest): string[] {
  if (request.cancelled) return ['CANCELLED'];
  if (request.paid) return ['PAID'];
  return ['CONFIRMED', 'REJECTED'];
}

function safeParse(content: Buffer): CloudEvent | undefined {
  try {
    return JSON.parse(content.toString()) as CloudEvent;
  } catch {
    return undefined;
  }
}
