import { brokerPermissionsOf } from '@app/messaging';
import { management, openTransaction, waitFor } from '@app/testing';
import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServiceProcess } from '../support/cluster.js';
import { allReady, type Fault, FAULT_WAIT_MS } from './faults.js';

// Faults that slow a part of the system down rather than kill it: they break what crashes do
// not (a handler past its timeout, a backlog past a saga deadline, a broker that blocks, a
// relay leader cut off, a channel that cannot be set up).

/** A value of a gauge or counter on a process's /metrics (summed over its label sets). */
async function metric(process: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(process.metricsUrl())).text();
  let total = 0;
  for (const match of text.matchAll(
    new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'gm'),
  ))
    total += Number(match[1]);
  return total;
}

/**
 * A test connection holds the row locks of every product's stock for longer than
 * HANDLER_TIMEOUT: reservations wait on them, time out, are abandoned and retried.
 */
export const slowDatabase = (holdMs: number): Fault => ({
  name: 'slow database (inventory)',
  async inject({ cluster }) {
    const locks = await openTransaction(cluster.databases.inventory.url);
    const rows = await locks.query(`SELECT sku FROM stock ORDER BY sku FOR UPDATE`);
    await sleep(holdMs); // the stall itself
    await locks.end('rollback');
    await allReady(cluster);
    return `stock rows of ${rows.length} products locked for ${holdMs} ms, past HANDLER_TIMEOUT`;
  },
});

/**
 * Every inventory replica stopped for longer than ORDER_RESERVATION_TIMEOUT: the saga rejects
 * the orders placed meanwhile; when inventory is back it reserves them late, and releases
 * them on their order.rejected (or records the rejection first and reserves nothing).
 */
export const inventoryOutage = (downMs: number): Fault => ({
  name: 'inventory down past the deadline',
  async inject({ cluster }) {
    const replicas = cluster.of('inventory');
    await Promise.all(replicas.map((replica) => replica.stop()));
    await sleep(downMs); // the outage itself
    await Promise.all(replicas.map((replica) => replica.start()));
    await allReady(cluster);
    return `every inventory replica stopped for ${downMs} ms, past the reservation deadline`;
  },
});

/** The SMTP server hangs: it accepts connections and answers nothing, past the SMTP timeout. */
export const hangingSmtp = (hangMs: number): Fault => ({
  name: 'hanging SMTP server',
  async inject({ cluster }) {
    const proxy = cluster.infra.smtpProxy;
    const before = proxy.connections.length;
    proxy.freeze();
    await sleep(hangMs); // the hang itself
    proxy.restore();
    await allReady(cluster);
    return `SMTP server silent for ${hangMs} ms (${proxy.connections.length - before} connections tried meanwhile)`;
  },
});

/**
 * The inventory replica that relays its outbox loses its broker link while the other stays
 * connected. Measured: from the cut to the next event the other replica publishes.
 */
export const relayLeaderCut = (cutMs: number): Fault => ({
  name: 'relay leader cut off',
  async inject({ cluster, injected }) {
    const replicas = cluster.of('inventory');
    const leaderOf = async () => {
      for (const replica of replicas)
        if ((await metric(replica, 'messaging_outbox_relay_leader')) === 1) return replica;
      return undefined;
    };
    const leader = await waitFor('an inventory relay leader', leaderOf, {
      timeoutMs: FAULT_WAIT_MS,
      intervalMs: 100,
    });
    const other = replicas.find((replica) => replica !== leader)!;
    const publishedBefore = await metric(other, 'messaging_events_published_total');
    leader.brokerProxy!.cut();
    const cutAt = Date.now();
    let handoverMs = -1;
    try {
      await waitFor(
        `${other.name} to publish the outbox`,
        async () => (await metric(other, 'messaging_events_published_total')) > publishedBefore,
        { timeoutMs: FAULT_WAIT_MS, intervalMs: 50 },
      );
      handoverMs = Date.now() - cutAt;
    } catch {
      injected.problems.push({
        fault: 'relay leader cut off',
        what: `${other.name} published nothing for ${FAULT_WAIT_MS} ms after ${leader.name}, the relay leader, lost the broker`,
      });
    }
    await sleep(Math.max(0, cutMs - (Date.now() - cutAt))); // the rest of the cut
    leader.brokerProxy!.restore();
    await allReady(cluster);
    return `${leader.name} (relay leader) cut off the broker for ${cutMs} ms; ${other.name} published the next event ${handoverMs} ms after the cut`;
  },
});

/**
 * A disk alarm on the suite's broker node: RabbitMQ blocks every publishing connection until
 * it is cleared. The gateway keeps accepting orders into its outbox; consumers keep consuming.
 */
export const brokerAlarm = (alarmMs: number): Fault => ({
  name: 'broker disk alarm',
  async inject({ cluster, broker }) {
    const alarmed = (on: boolean) =>
      waitFor(
        `the disk alarm to be ${on ? 'raised' : 'cleared'}`,
        async () =>
          (await broker.management<{ disk_free_alarm: boolean }>('GET', `/nodes/${broker.name}`))
            .disk_free_alarm === on,
        { timeoutMs: FAULT_WAIT_MS, intervalMs: 200 },
      );
    await broker.ctl('set_disk_free_limit', '100000GB'); // more than any disk
    await alarmed(true);
    const raisedAt = Date.now();
    await sleep(alarmMs); // the alarm itself
    await broker.ctl('set_disk_free_limit', '50MB');
    await alarmed(false);
    const heldMs = Date.now() - raisedAt;
    await allReady(cluster);
    return `disk alarm on ${broker.name} (set_disk_free_limit) for ${heldMs} ms, then cleared`;
  },
});

/** The number of times a process log says it connected to RabbitMQ, from byte `from` on. */
function connectsIn(process: ServiceProcess, from: number): number {
  const text = readFileSync(process.logFile).subarray(from).toString('utf8');
  return text.match(/Connected to RabbitMQ at/g)?.length ?? 0;
}

/**
 * email's broker user loses the configure permission on one of its queues, and its
 * connections are closed so that every channel is set up again: that queue stops, backs off
 * and recovers once the permission is back; nothing else reconnects (the storm case).
 */
export const missingPermission = (deniedMs: number): Fault => ({
  name: 'missing permission (email)',
  async inject({ cluster, injected }) {
    const queue = 'email.order.confirmed';
    const granted = brokerPermissionsOf('email');
    const replicas = cluster.of('email');
    const logFrom = new Map(replicas.map((replica) => [replica, statSync(replica.logFile).size]));
    await cluster.infra.setPermissions('email', {
      ...granted,
      configure: `^(?!${queue.replace(/\./g, '\\.')}$)${granted.configure.slice(1)}`,
    });
    const user = cluster.infra.brokerUserOf('email');
    const connections = await management<{ name: string; user: string }[]>(
      'GET',
      '/connections',
      undefined,
      cluster.vhost.broker,
    );
    for (const connection of connections.filter((c) => c.user === user))
      await management(
        'DELETE',
        `/connections/${encodeURIComponent(connection.name)}`,
        undefined,
        cluster.vhost.broker,
      ).catch(() => undefined);
    await sleep(deniedMs); // the permission stays away this long
    await cluster.infra.setPermissions('email', granted);
    await allReady(cluster);
    const reconnects = replicas.map((replica) => connectsIn(replica, logFrom.get(replica)!));
    // Each replica opens its two connections (consume, publish) again once, and no more.
    if (reconnects.some((count) => count > 2))
      injected.problems.push({
        fault: 'missing permission (email)',
        what: `email reconnected ${reconnects.join(' and ')} times while one queue's permission was missing (a reconnect storm)`,
      });
    return `configure on ${queue} refused to email for ${deniedMs} ms, its connections closed; reconnects per replica: ${reconnects.join(', ')}`;
  },
});
