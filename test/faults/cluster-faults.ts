import { management, waitFor } from '@app/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Cluster } from '../support/cluster.js';
import { allReady, type Fault, FAULT_WAIT_MS } from './faults.js';

// Faults of a three-node RabbitMQ cluster (`npm run test:faults -- --cluster`): the services
// reach every node (a comma-separated AMQP_URL) and their quorum queues have a member on each.

interface QueueState {
  name: string;
  type: string;
  leader?: string;
  members?: string[];
  online?: string[];
}

async function quorumQueues(cluster: Cluster): Promise<QueueState[]> {
  const queues = await management<QueueState[]>(
    'GET',
    `/queues/${encodeURIComponent(cluster.vhost.name)}?columns=name,type,leader,members,online`,
    undefined,
    cluster.vhost.broker,
  );
  return queues.filter((queue) => queue.type === 'quorum');
}

/**
 * Resolves once every quorum queue has all its members online again (the cluster healed);
 * returns how long that took from `since`.
 */
async function healed(cluster: Cluster, since: number): Promise<number> {
  await waitFor(
    'every quorum queue to have all its members online',
    async () =>
      (await quorumQueues(cluster)).every(
        (queue) => (queue.online?.length ?? 0) === (queue.members?.length ?? -1),
      ),
    { timeoutMs: FAULT_WAIT_MS, intervalMs: 250 },
  );
  return Date.now() - since;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** `kill -9` of the node that leads the most quorum queues, then a start on its data. */
export const killQueueLeaderNode = (downMs: number): Fault => ({
  name: 'kill -9 the leading node',
  async inject({ cluster, brokers }) {
    const counts = new Map<string, number>();
    for (const queue of await quorumQueues(cluster))
      if (queue.leader) counts.set(queue.leader, (counts.get(queue.leader) ?? 0) + 1);
    const [leaderName, led] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    const node = brokers.find((candidate) => candidate.name === leaderName)!;
    const killedAt = Date.now();
    await node.kill();
    // The queues it led elect new leaders on the other two; the services fail over.
    await allReady(cluster);
    const servicesBackMs = Date.now() - killedAt;
    await sleep(Math.max(0, downMs - servicesBackMs));
    await node.restart();
    const healMs = await healed(cluster, killedAt);
    await allReady(cluster);
    return `kill -9 ${node.name} (leader of ${led} quorum queues): services ready on the others after ${seconds(servicesBackMs)}, cluster healed ${seconds(healMs)} after the kill`;
  },
});

/** A node frozen with SIGSTOP for longer than the heartbeat, then resumed. */
export const pauseNode = (pausedMs: number): Fault => ({
  name: 'node paused (SIGSTOP)',
  async inject({ cluster, brokers }) {
    const node = brokers[1]!;
    const pausedAt = Date.now();
    node.pause();
    await sleep(pausedMs); // the pause itself: past the 5 s heartbeat, noticed as a dead peer
    node.resume();
    await allReady(cluster);
    const healMs = await healed(cluster, pausedAt);
    return `${node.name} paused for ${seconds(pausedMs)} (heartbeat 5 s), then resumed; healed ${seconds(healMs)} after the pause began`;
  },
});

/** Every node stopped and started again, one after the other, as an upgrade does. */
export const rollingRestart = (): Fault => ({
  name: 'rolling restart',
  async inject({ cluster, brokers }) {
    const startedAt = Date.now();
    const each: string[] = [];
    for (const node of brokers) {
      const at = Date.now();
      await node.stop();
      await node.restart();
      await healed(cluster, at);
      each.push(`${node.name.split('@')[0]} ${seconds(Date.now() - at)}`);
    }
    await allReady(cluster);
    return `each node stopped and started in turn, waiting for the queues to heal (${each.join(', ')}; ${seconds(Date.now() - startedAt)} in all)`;
  },
});
