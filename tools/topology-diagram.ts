import { EVENT_FLOWS, EVENT_TYPES, exchangeOf } from '@app/events';

/** The README section the diagram lives in. */
export const README_MARKERS = ['<!-- topology:start -->', '<!-- topology:end -->'] as const;

/** A Mermaid flowchart: producer -> its exchange -> consumer, labelled by event type. */
export function mermaidDiagram(): string {
  const lines = ['flowchart LR'];
  const services = new Set<string>();
  for (const type of EVENT_TYPES) {
    const { producer, consumers } = EVENT_FLOWS[type];
    services.add(producer);
    const exchange = exchangeOf(type).replace('.', '_');
    lines.push(`  ${producer} --> ${exchange}[/${exchangeOf(type)}/]`);
    if (!consumers.length)
      lines.push(`  ${exchange} -. "${type} (no consumer)" .-> nobody((nobody))`);
    for (const consumer of consumers) {
      services.add(consumer);
      lines.push(`  ${exchange} -- "${type}" --> ${consumer}`);
    }
  }
  for (const service of services) lines.push(`  ${service}([${service}])`);
  return `${[...new Set(lines)].join('\n')}\n`;
}
