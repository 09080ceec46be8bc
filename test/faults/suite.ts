import { BrokerCluster, BrokerNode, queryOn, waitFor } from '@app/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from '../support/cluster.js';
import { TEST_RETRY_DELAYS_MS } from '../support/infrastructure.js';
import { call } from '../support/http.js';
import {
  brokerRestart,
  duplicateDeliveries,
  type Fault,
  type FaultContext,
  killService,
  poisonMessages,
  reorderedDeliveries,
  terminateDatabaseConnections,
} from './faults.js';
import { killQueueLeaderNode, pauseNode, rollingRestart } from './cluster-faults.js';
import { AdminDriver } from './admin-load.js';
import { LoadDriver } from './load.js';
import {
  brokerAlarm,
  hangingSmtp,
  inventoryOutage,
  missingPermission,
  relayLeaderCut,
  slowDatabase,
} from './slowness.js';
import { EventTap } from './tap.js';
import { inFlight, missingEmails, type Phase, type Verdict, verify } from './verify.js';

export interface SuiteOptions {
  customers: number;
  ordersPerSecond: number;
  /** The load runs until both are reached (and every fault was injected). */
  minOrders: number;
  minDurationMs: number;
  /** Load between two faults, and before the first. */
  gapMs: number;
  brokerDownMs: number;
  duplicates: number;
  reordered: number;
  poisonRounds: number;
  /** How long each slowness fault lasts. */
  slowDatabaseMs: number;
  inventoryDownMs: number;
  smtpHangMs: number;
  leaderCutMs: number;
  alarmMs: number;
  permissionDeniedMs: number;
  /** On a three-node cluster: the leading node's time down, and a node's pause. */
  leaderNodeDownMs: number;
  nodePausedMs: number;
  /** Run on a three-node cluster of the suite's own, with the cluster's faults. */
  cluster?: boolean;
  seed: number;
  /** Receives progress lines (default: stdout). */
  log?: (line: string) => void;
}

/** How often the administrator of the load receives stock or changes a price. */
const ADMIN_COMMAND_EVERY_MS = 1_500;

/** `npm run test:faults`: over a minute, 500+ orders, every fault. */
export const FULL: SuiteOptions = {
  customers: 24,
  ordersPerSecond: 8,
  minOrders: 540,
  minDurationMs: 75_000,
  gapMs: 6_000,
  brokerDownMs: 5_000,
  duplicates: 60,
  reordered: 12,
  poisonRounds: 3,
  slowDatabaseMs: 3_000,
  inventoryDownMs: 8_000,
  smtpHangMs: 1_500,
  leaderCutMs: 6_000,
  alarmMs: 5_000,
  permissionDeniedMs: 8_000,
  leaderNodeDownMs: 8_000,
  nodePausedMs: 20_000,
  seed: 1,
};

/** The variant `npm test` runs: every fault, with less load and shorter gaps. */
export const SHORT: SuiteOptions = {
  customers: 20,
  ordersPerSecond: 6,
  minOrders: 150,
  minDurationMs: 25_000,
  gapMs: 2_000,
  brokerDownMs: 2_000,
  duplicates: 20,
  reordered: 4,
  poisonRounds: 1,
  slowDatabaseMs: 3_000,
  inventoryDownMs: 7_000,
  smtpHangMs: 1_500,
  leaderCutMs: 5_000,
  alarmMs: 4_000,
  permissionDeniedMs: 6_000,
  leaderNodeDownMs: 6_000,
  nodePausedMs: 15_000,
  seed: 2,
};

export interface SuiteResult {
  phases: Phase[];
  verdict: Verdict;
  lost: number;
  duplicated: number;
  violations: number;
  table: string;
  summary: string;
  logDir: string;
  /** The broker it ran on: `RabbitMQ 3.10.8, one node`. */
  broker: string;
}

const SETTLE_TIMEOUT_MS = 180_000;
/** The reservation deadline of the system under test: short, so the saga's timeout path runs. */
const SUITE_RESERVATION_TIMEOUT = '5s';
/**
 * HANDLER_TIMEOUT and the retry ladder: compressed (production: 30 s and 1s,10s,60s,5m) so
 * that a run takes minutes. Three broker nodes beside six services on two cores starve a
 * handler of CPU while a node boots, so the cluster run gets more room for each.
 */
const TIMING = {
  single: { handlerTimeout: '2s', retryDelaysMs: TEST_RETRY_DELAYS_MS },
  cluster: { handlerTimeout: '5s', retryDelaysMs: [500, 2_000, 5_000] },
};

/** Boots the system with replicas, drives load, injects every fault in turn, then checks. */
export async function runFaultSuite(options: SuiteOptions): Promise<SuiteResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const timing = options.cluster ? TIMING.cluster : TIMING.single;
  // Broker nodes of the suite's own: they are stopped and alarmed, which the machine's broker
  // on the default port (and whatever else uses it) must never be.
  const brokerCluster = options.cluster ? await BrokerCluster.start('faultsc', 3) : undefined;
  const brokers = brokerCluster?.nodes ?? [await BrokerNode.start({ prefix: 'faults' })];
  const broker = brokers[0]!;
  const disposeBrokers = async () => {
    for (const node of brokers) await node.dispose();
  };
  let cluster: Cluster;
  try {
    cluster = await Cluster.start({
      name: 'faults',
      broker: brokerCluster?.access ?? broker.access,
      replicas: { inventory: 2, email: 2 },
      // Per-service broker users, as in compose: the permission fault takes one away.
      brokerUsers: true,
      // The relay-leader fault cuts one inventory replica off the broker (single node).
      ...(brokerCluster ? {} : { brokerProxies: ['inventory' as const] }),
      env: {
        // Deadlines short enough that the saga's timeout path runs: a reservation that takes
        // longer than this (an outage, a stall) is rejected and compensated.
        ORDER_RESERVATION_TIMEOUT: SUITE_RESERVATION_TIMEOUT,
        ORDER_PAYMENT_TIMEOUT: '30m',
        HANDLER_TIMEOUT: timing.handlerTimeout,
        RETRY_DELAYS: timing.retryDelaysMs.map((ms) => `${ms}ms`).join(','),
      },
    });
  } catch (error) {
    await disposeBrokers();
    throw error;
  }
  log(
    `[faults] RabbitMQ ${brokers.length === 1 ? 'node' : 'cluster'} ${brokers.map((node) => node.name).join(', ')}`,
  );
  log(
    `[faults] system up: ${cluster.processes.map((p) => p.name).join(', ')}; vhost ${cluster.vhost.name}; logs in ${cluster.logDir}`,
  );
  try {
    // Plenty of every product but the 10-unit lamp, so shortages are the lamp's race only.
    await restock(cluster.databases.inventory.url, 5_000);
    const initialStock = new Map(
      (
        (await call(cluster.url('inventory', '/stock'))).body as { sku: string; onHand: number }[]
      ).map((row) => [row.sku, row.onHand]),
    );
    const tap = await EventTap.create(cluster.vhost.url);
    const load = new LoadDriver(cluster.url('orders', ''), options.seed);
    await load.register(options.customers);
    // An administrator receives stock and changes prices throughout (never the lamp's).
    const admin = new AdminDriver(
      cluster.url('orders', ''),
      cluster.databases.users.url,
      () => load.now(),
      options.seed,
      [...initialStock.keys()].filter((sku) => sku !== 'LAMP-LTD'),
    );
    await admin.signIn();
    const context: FaultContext = {
      cluster,
      broker,
      brokers,
      load,
      tap,
      injected: { duplicates: [], problems: [], reordered: [], poison: [] },
    };
    const serviceFaults: Fault[] = [
      killService('inventory'),
      killService('orders'),
      killService('email'),
      terminateDatabaseConnections(3),
      duplicateDeliveries(options.duplicates),
      reorderedDeliveries(options.reordered),
      poisonMessages(options.poisonRounds),
    ];
    const faults: Fault[] = brokerCluster
      ? [
          ...serviceFaults,
          killQueueLeaderNode(options.leaderNodeDownMs),
          pauseNode(options.nodePausedMs),
          rollingRestart(),
          brokerAlarm(options.alarmMs),
          missingPermission(options.permissionDeniedMs),
        ]
      : [
          brokerRestart(options.brokerDownMs),
          ...serviceFaults,
          slowDatabase(options.slowDatabaseMs),
          inventoryOutage(options.inventoryDownMs),
          hangingSmtp(options.smtpHangMs),
          relayLeaderCut(options.leaderCutMs),
          brokerAlarm(options.alarmMs),
          missingPermission(options.permissionDeniedMs),
        ];
    const phases: Phase[] = [{ name: 'baseline', startedAt: 0, recoveryMs: 0, note: 'no fault' }];
    load.start(options.ordersPerSecond);
    admin.start(ADMIN_COMMAND_EVERY_MS);
    log(
      `[faults] load: ${options.ordersPerSecond} orders/s from ${options.customers} customers (seed ${options.seed})`,
    );
    await sleep(options.gapMs); // load with no fault
    for (const fault of faults) {
      const startedAt = load.now();
      log(`[faults] t=${(startedAt / 1000).toFixed(1)}s inject: ${fault.name}`);
      const note = await fault.inject(context);
      const recoveryMs = load.now() - startedAt;
      phases.push({ name: fault.name, startedAt, recoveryMs, note });
      log(`[faults]   ${note}; ready again after ${(recoveryMs / 1000).toFixed(1)}s`);
      await sleep(options.gapMs); // load between faults
    }
    await waitFor(
      `${options.minOrders} orders over ${options.minDurationMs} ms`,
      () => load.requests.length >= options.minOrders && load.now() >= options.minDurationMs,
      {
        timeoutMs: options.minDurationMs + (options.minOrders / options.ordersPerSecond) * 2_000,
        intervalMs: 250,
      },
    );
    log(
      `[faults] t=${(load.now() / 1000).toFixed(1)}s stopping the load after ${load.requests.length} orders; waiting for follow-ups`,
    );
    await admin.stop();
    log(
      `[faults] admin: ${admin.receipts.length} stock receipts and ${admin.priceChanges.length} price changes accepted`,
    );
    await load.stop();
    // Settled: nothing in a queue, a consumer's hands or an outbox, no PENDING order, and every
    // email-worthy event the tap saw has its email at the sink, from exact counts (passive queue
    // declares, the outbox tables), and so for longer than the longest retry delay: a message
    // moving between two queues while they are read one after the other shows in the next round.
    // A slow machine makes this wait longer, never red.
    const poisonIds = new Set(context.injected.poison.map((p) => p.id));
    let busy: string[] = [];
    let quietSince: number | undefined;
    await waitFor(
      'the system to settle',
      async () => {
        busy = await inFlight(cluster).catch((error: Error) => [error.message]);
        if (!busy.length) {
          await tap.collect();
          const emails = missingEmails(tap, load, cluster.smtp.mails, poisonIds).length;
          if (emails) busy = [`${emails} emails not at the sink yet`];
        }
        if (busy.length) {
          quietSince = undefined;
          return false;
        }
        quietSince ??= Date.now();
        // Three times the longest retry delay: a message moving between queues shows meanwhile.
        return Date.now() - quietSince >= 3 * Math.max(...timing.retryDelaysMs);
      },
      { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 500 },
    ).catch(() =>
      log(`[faults] still in flight after ${SETTLE_TIMEOUT_MS} ms: ${busy.join('; ')}`),
    );
    const verdict = await verify({
      cluster,
      load,
      tap,
      injected: context.injected,
      phases,
      phaseOfFault: (name) => phases.findIndex((phase) => phase.name === name),
      initialStock,
      admin,
      mails: [...cluster.smtp.mails],
    });
    const result = summarize(phases, verdict, load, faults.length);
    result.logDir = cluster.logDir;
    const { rabbitmq_version: version } = await broker.management<{ rabbitmq_version: string }>(
      'GET',
      '/overview',
    );
    result.broker = `RabbitMQ ${version}, ${brokers.length === 1 ? 'one node' : `a cluster of ${brokers.length} nodes`}`;
    writeFileSync(
      join(cluster.logDir, 'report.json'),
      JSON.stringify(
        { options: { ...options, log: undefined }, phases, verdict, failures: load.failures },
        null,
        2,
      ),
    );
    return result;
  } finally {
    await cluster.stop();
    await disposeBrokers();
  }
}

async function restock(url: string, units: number): Promise<void> {
  await queryOn(url, `UPDATE stock SET on_hand = on_hand + $1 WHERE sku <> 'LAMP-LTD'`, [units]);
}

function summarize(
  phases: Phase[],
  verdict: Verdict,
  load: LoadDriver,
  faults: number,
): SuiteResult {
  const count = (kind: string, phase?: number) =>
    verdict.findings.filter((f) => f.kind === kind && (phase === undefined || f.phase === phase))
      .length;
  const retriesIn = (i: number) => {
    const end = phases[i + 1]?.startedAt ?? Infinity;
    return load.failures.filter((f) => f.at >= phases[i]!.startedAt && f.at < end).length;
  };
  const rows = phases.map((phase, i) => [
    phase.name,
    `${(phase.startedAt / 1000).toFixed(1)}s`,
    i === 0 ? '-' : `${(phase.recoveryMs / 1000).toFixed(1)}s`,
    String(verdict.orders[i]),
    String(count('lost', i)),
    String(count('duplicated', i)),
    String(verdict.resent[i]),
    String(verdict.rejectedByDeadline[i]),
    String(count('violation', i)),
    String(retriesIn(i)),
    phase.note,
  ]);
  const header = [
    'phase',
    'at',
    'back in',
    'orders',
    'lost',
    'duplicated',
    'resent',
    'timed out',
    'violations',
    'http retries',
    'what was done',
  ];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join(
    '\n',
  );
  const lost = count('lost');
  const duplicated = count('duplicated');
  const violations = count('violation');
  const resent = verdict.resent.reduce((a, b) => a + b, 0);
  const summary = [
    ...verdict.findings.map((f) => `${f.kind.toUpperCase()} [${phases[f.phase]!.name}] ${f.what}`),
    `stock exact: ${verdict.stock.every((s) => s.onHand === s.expectedOnHand && s.reserved === s.expectedReserved) ? 'yes' : 'NO'} (${verdict.stock.map((s) => `${s.sku} ${s.onHand}/${s.reserved}`).join(', ')})`,
    `requests: ${load.requests.length} placed, ${verdict.accepted} accepted, ${load.requests.filter((r) => r.refused).length} refused; paid ${load.requests.filter((r) => r.paid).length}, cancelled ${load.requests.filter((r) => r.cancelled).length}; resent=${resent} violations=${violations}`,
    `lost=${lost} duplicated=${duplicated} orders=${verdict.accepted} faults=${faults} dead-lettered=${verdict.deadLettered}`,
  ].join('\n');
  return { phases, verdict, lost, duplicated, violations, table, summary, logDir: '', broker: '' };
}
