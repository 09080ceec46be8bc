// npm run topology: every service's exchanges, queues and bindings, and a Mermaid diagram of
// who publishes and who consumes each event. --mermaid prints the diagram only; --write
// updates the diagram in README.md and the broker users' permissions in
// deploy/rabbitmq/definitions.json, both derived from the event catalog.
import { EVENT_FLOWS, EVENT_TYPES, SERVICES } from '@app/events';
import { buildTopology, definitionsPermissions, resolveMessagingOptions } from '@app/messaging';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mermaidDiagram, README_MARKERS } from './topology-diagram.js';

const args = process.argv.slice(2);
const diagram = mermaidDiagram();

if (args.includes('--write')) {
  const path = join(import.meta.dirname, '..', 'README.md');
  const readme = readFileSync(path, 'utf8');
  const [start, end] = README_MARKERS;
  const pattern = new RegExp(`${start}[\\s\\S]*${end}`);
  if (!pattern.test(readme))
    throw new Error(`README.md has no ${start} ... ${end} section to update.`);
  writeFileSync(path, readme.replace(pattern, `${start}\n\`\`\`mermaid\n${diagram}\`\`\`\n${end}`));
  console.log('README.md diagram updated');
  const definitionsPath = join(import.meta.dirname, '..', 'deploy', 'rabbitmq', 'definitions.json');
  const definitions = JSON.parse(readFileSync(definitionsPath, 'utf8')) as Record<string, unknown>;
  const { permissions, topic_permissions } = definitionsPermissions(SERVICES);
  const admin = (definitions.permissions as { user: string }[]).filter((p) => p.user === 'admin');
  definitions.permissions = [...admin, ...permissions];
  definitions.topic_permissions = topic_permissions;
  writeFileSync(definitionsPath, `${JSON.stringify(definitions, null, 2)}\n`);
  console.log('deploy/rabbitmq/definitions.json permissions updated');
} else if (args.includes('--mermaid')) {
  process.stdout.write(diagram);
} else {
  for (const service of SERVICES) {
    const consumed = EVENT_TYPES.filter((type) => EVENT_FLOWS[type].consumers.includes(service));
    const topology = buildTopology(
      resolveMessagingOptions({ service, url: 'amqp://localhost' }),
      consumed,
    );
    console.log(`\n# ${service}`);
    console.log(`exchanges: ${topology.exchanges.map((e) => `${e.name} (${e.type})`).join(', ')}`);
    console.log('queues:');
    for (const queue of topology.queues) {
      const args = Object.entries(queue.arguments)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      console.log(`  ${queue.name.padEnd(52)} ${queue.role.padEnd(11)} ${args}`);
    }
    console.log('bindings:');
    for (const binding of topology.bindings) {
      console.log(`  ${binding.exchange} --[${binding.routingKey}]--> ${binding.queue}`);
    }
  }
  console.log(`\n# who publishes and who consumes\n\`\`\`mermaid\n${diagram}\`\`\``);
}
