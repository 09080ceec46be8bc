// npm run bench (last step): docs/benchmarks.svg from bench/results/*.json: transport latency
// per contender against the offered rate, and the end-to-end throughput and latency.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './lib/process-stats.js';
import { readResults, root } from './lib/report.js';
import { cpuMsPerOrder, type StepResult } from './e2e.bench.js';

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 340;
const H = 300;
const M = { left: 52, right: 12, top: 34, bottom: 92 };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceTicks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const ticks: number[] = [];
    for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++)
      ticks.push(10 ** p);
    return ticks;
  }
  const step = 10 ** Math.floor(Math.log10(max / 4 || 1));
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => max / s <= 6) ?? step * 10;
  const ticks: number[] = [];
  for (let t = 0; t <= max + unit / 2; t += unit) ticks.push(t);
  return ticks;
}

/** One panel: axes, ticks, lines with points, a legend under it. */
function panel(
  x0: number,
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  log: boolean,
): string {
  const points = series
    .flatMap((s) => s.points)
    .filter(([, y]) => Number.isFinite(y) && (!log || y > 0));
  if (!points.length) return '';
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xMax = Math.max(...xs) * 1.05;
  const yTicks = niceTicks(log ? Math.min(...ys) : 0, Math.max(...ys) * 1.1, log);
  const yMin = log ? yTicks[0]! : 0;
  const yMax = yTicks.at(-1)!;
  const px = (x: number) => x0 + M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => {
    const ratio = log
      ? (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))
      : (y - yMin) / (yMax - yMin);
    return M.top + (1 - ratio) * (H - M.top - M.bottom);
  };
  const out: string[] = [];
  out.push(
    `<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${px(0)}" x2="${x0 + W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/>`,
    );
    out.push(
      `<text x="${px(0) - 4}" y="${py(t) + 4}" text-anchor="end">${t >= 1000 ? `${t / 1000}k` : t}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<text x="${px(x)}" y="${H - M.bottom + 14}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<line x1="${px(0)}" x2="${px(0)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(
    `<line x1="${px(0)}" x2="${x0 + W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${x0 + W / 2}" y="${H - M.bottom + 30}" text-anchor="middle">${escape(xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(${x0 + 12},${(H - M.bottom + M.top) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const valid = s.points.filter(([, y]) => Number.isFinite(y) && (!log || y > 0));
    const path = valid
      .map(([x, y], j) => `${j ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
      .join(' ');
    out.push(
      `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    for (const [x, y] of valid)
      out.push(
        `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`,
      );
    const ly = H - M.bottom + 46 + i * 14;
    out.push(
      `<line x1="${x0 + M.left}" x2="${x0 + M.left + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    out.push(`<text x="${x0 + M.left + 24}" y="${ly}">${escape(s.name)}</text>`);
  });
  return out.join('\n');
}

interface TransportResult {
  queueType: string;
  contender: string;
  latency: Record<string, { p50: number[]; p99: number[] }>;
}

export function writeChart(): string {
  const transport = readResults<{ results: TransportResult[] }>('transport');
  const e2e = readResults<{ steps: StepResult[]; peer?: { steps: StepResult[] } }>('e2e');
  const panels: string[] = [];
  if (transport) {
    const quorum = transport.results.filter((r) => r.queueType === 'quorum');
    panels.push(
      panel(
        0,
        'Transport, quorum queue: p99 latency',
        'offered msg/s',
        'publish -> handler p99, ms (log)',
        quorum.map((r, i) => ({
          name: r.contender,
          color: COLORS[i % COLORS.length]!,
          points: Object.entries(r.latency).map(
            ([rate, v]) => [Number(rate), median(v.p99)] as [number, number],
          ),
        })),
        true,
      ),
    );
  }
  if (e2e) {
    // Ours and the peer (bench/peers/shop) side by side: solid ours, dashed the peer.
    const systems = [
      { name: 'ours', steps: e2e.steps, dashed: false },
      ...(e2e.peer ? [{ name: 'peer', steps: e2e.peer.steps, dashed: true }] : []),
    ];
    const rates = [...new Set(systems.flatMap((x) => x.steps.map((s) => s.offered)))];
    panels.push(
      panel(
        W,
        'End to end: throughput',
        'offered orders/s',
        'CONFIRMED orders/s',
        [
          ...systems.map((x) => ({
            name: `${x.name}: CONFIRMED/s`,
            color: COLORS[0]!,
            dashed: x.dashed,
            points: x.steps.map((s) => [s.offered, s.confirmedPerSecond] as [number, number]),
          })),
          {
            name: 'offered (ideal)',
            color: '#999',
            dashed: true,
            points: rates.map((rate) => [rate, rate] as [number, number]),
          },
        ],
        false,
      ),
    );
    panels.push(
      panel(
        2 * W,
        'End to end: p99 latency',
        'offered orders/s',
        'ms (log)',
        systems.flatMap((x) => [
          {
            name: `${x.name}: placed -> CONFIRMED p99`,
            color: COLORS[1]!,
            dashed: x.dashed,
            points: x.steps.map((s) => [s.offered, s.confirmP99] as [number, number]),
          },
          {
            name: `${x.name}: POST /orders p99`,
            color: COLORS[2]!,
            dashed: x.dashed,
            points: x.steps.map((s) => [s.offered, s.httpP99] as [number, number]),
          },
        ]),
        true,
      ),
    );
    panels.push(
      panel(
        3 * W,
        'End to end: CPU per order',
        'offered orders/s',
        'ms of CPU, all processes',
        systems.map((x) => ({
          name: `${x.name}: CPU ms per order`,
          color: COLORS[4]!,
          dashed: x.dashed,
          points: x.steps
            .filter((s) => cpuMsPerOrder(s) !== undefined)
            .map((s) => [s.offered, cpuMsPerOrder(s)!] as [number, number]),
        })),
        false,
      ),
    );
  }
  const width = W * Math.max(1, panels.length);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
  const path = join(root, 'docs', 'benchmarks.svg');
  writeFileSync(path, svg);
  return path;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`[chart] wrote ${writeChart()}`);
