import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mermaidDiagram, README_MARKERS } from './topology-diagram.js';

describe('the topology diagram', () => {
  it('in README.md is in step with EVENT_FLOWS (else run npm run topology -- --write)', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const [start, end] = README_MARKERS;
    const section = readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end));
    expect(section.trim()).toBe(`\`\`\`mermaid\n${mermaidDiagram()}\`\`\``);
  });

  it('shows every consumer edge', () => {
    expect(mermaidDiagram()).toContain('orders_events -- "order.placed" --> inventory');
    expect(mermaidDiagram()).toContain('users_events -- "user.registered" --> email');
  });
});
