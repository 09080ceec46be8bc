// npm run bench:queues: what the retry plumbing costs a three-node RabbitMQ cluster. Declares
// the four services' topology twice on a cluster of the run's own: with a wait queue per
// (queue, delay), and with wait queues shared per (service, delay). Reports the quorum queue
// count, the memory and Erlang processes the cluster holds with them, and how long declaring
// the topology took; writes the figures to bench/results/queues.json.
import { EVENT_FLOWS, EVENT_TYPES, SERVICES } from '@app/events';
import { buildTopology, resolveMessagingOptions } from '@app/messaging';
import { BrokerCluster, connectAny, createTestVhost } from '@app/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface Shape {
  name: string;
  queues: { name: string; arguments: Record<string, unknown> }[];
}

/** The queues of every service, as the library declares them (a wait queue per queue and delay). */
function perQueue(): Shape {
  const queues = SERVICES.flatMap((service) =>
    buildTopology(
      resolveMessagingOptions({ service, url: 'amqp://localhost' }),
      EVENT_TYPES.filter((type) => EVENT_FLOWS[type].consumers.includes(service)),
    ).queues.map((queue) => ({ name: queue.name, arguments: queue.arguments })),
  );
  return { name: 'a wait queue per queue and delay', queues };
}

/** The same, with the wait queues shared per service and delay. */
function perService(): Shape {
  const { queues } = perQueue();
  const shared = new Map<string, { name: string; arguments: Record<string, unknown> }>();
  const kept = queues.filter((queue) => !/\.retry\.[^.]+$/.test(queue.name));
  for (const queue of queues.filter((q) => /\.retry\.[^.]+$/.test(q.name))) {
    const service = queue.name.split('.')[0]!;
    const delay = queue.name.split('.').at(-1)!;
    const { 'x-dead-letter-routing-key': _key, ...args } = queue.arguments;
    shared.set(`${service}.retry.${delay}`, { name: `${service}.retry.${delay}`, arguments: args });
  }
  return {
    name: 'wait queues shared per service and delay',
    queues: [...kept, ...shared.values()],
  };
}

const cluster = await BrokerCluster.start('qbench', 3);
const results: Record<string, unknown>[] = [];
try {
  /** Memory and process count of every node's Erlang VM, read exactly (rabbitmqctl eval). */
  const nodes = async () => {
    let memory = 0;
    let processes = 0;
    for (const node of cluster.nodes) {
      const out = await node.ctl(
        'eval',
        '{erlang:memory(total), erlang:system_info(process_count)}.',
      );
      const [bytes, count] = out.match(/\d+/g)!.map(Number);
      memory += bytes!;
      processes += count!;
    }
    return { memory, processes };
  };
  for (const shape of [perQueue(), perService()]) {
    const vhost = await createTestVhost('qbench', cluster.access);
    await sleep(3_000);
    const before = await nodes();
    const connection = await connectAny(vhost.url);
    const channel = await connection.createChannel();
    const started = performance.now();
    for (const queue of shape.queues)
      await channel.assertQueue(queue.name, { durable: true, arguments: queue.arguments });
    const declareMs = performance.now() - started;
    await connection.close();
    await sleep(5_000); // let the members settle and the figures refresh
    const after = await nodes();
    const quorum = shape.queues.filter((q) => q.arguments['x-queue-type'] === 'quorum').length;
    const row = {
      shape: shape.name,
      quorumQueues: quorum,
      raftMembers: quorum * cluster.nodes.length,
      memoryMiB: Math.round(((after.memory - before.memory) / 2 ** 20) * 10) / 10,
      erlangProcesses: after.processes - before.processes,
      membersPerQueue: (
        await cluster.nodes[0]!.management<{ members?: string[] }>(
          'GET',
          `/queues/${encodeURIComponent(vhost.name)}/${encodeURIComponent(shape.queues[0]!.name)}`,
        )
      ).members?.length,
      declareMs: Math.round(declareMs),
    };
    results.push(row);
    console.log(JSON.stringify(row));
    await vhost.dispose();
  }
} finally {
  await cluster.dispose();
}
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'queues.json'),
  `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
);
