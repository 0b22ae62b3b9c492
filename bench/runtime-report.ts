// The "Runtimes" section of docs/benchmarks.md: one row per gateway runtime, each from its own
// `bash bench/run.sh [--runtime ID]` run beside HAProxy in that same run. A run replaces only its
// own row, so the table fills up over several runs; `--runtime` runs change nothing else.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type Results, type Setup, median } from './report.js';
import type { GatewayRuntime } from './runtimes.js';

const HEADING = '## Runtimes: the same bench with the gateway on each runtime';
const COLUMNS = [
  'gateway runtime',
  'P1 req/s: 1 process / 2 workers / policy on',
  'P1 vs HAProxy: 2 workers / policy on',
  'P1 CPU µs per request: 1 process / policy on (HAProxy)',
  'P2 MiB/s down / up (2 workers)',
  'P2 vs HAProxy down / up',
  'P2 CPU s per GiB down / up (HAProxy)',
  'P3 for 20,000 pairs',
  'P4 p50 added (2 workers)',
  'P5',
  'run',
];
const INTRO = `Each row is one \`bash bench/run.sh --runtime ID\` run (\`node20\`, \`node24\`, \`node26\`, \`bun\`; without \`--runtime\` the bundled Node 26, whose run also writes every other section of this file). Only the gateway's runtime changes; HAProxy, nginx, the upstream and the load generators are the same, and each ratio is against HAProxy in the same run. Node runs with the gateway V8 flags; Bun runs \`src/cli/main.ts\` as it is. What was chosen and why: ARCHITECTURE.md, "Runtime".`;

const rowKey = (row: string) => /^\| (Node \d+|Bun)/.exec(row)?.[1] ?? row;

export function runtimeRow(r: Results, rt: GatewayRuntime): string {
  const p1 = (id: Setup) => {
    const runs = r.p1.get(id)!;
    return { rps: median(runs.map((x) => x.rps)), cpu: median(runs.map((x) => x.cpuUsPerRequest)) };
  };
  const p2 = (id: Setup) => {
    const runs = r.p2.get(id)!;
    return { down: median(runs.map((x) => x.down)), up: median(runs.map((x) => x.up)), downCpu: median(runs.map((x) => x.downCpu)), upCpu: median(runs.map((x) => x.upCpu)) };
  };
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  const hap = p1('haproxy');
  const h2 = p2('haproxy');
  const pc2 = p2('pc2');
  const pc3 = r.p3.get('pc3')!;
  const direct = r.p4.get('direct')!.p50;
  const cells = [
    rt.label,
    `${p1('pc1').rps.toFixed(0)} / ${p1('pc2').rps.toFixed(0)} / ${p1('pc2policy').rps.toFixed(0)}`,
    `${x(p1('pc2').rps, hap.rps)} / ${x(p1('pc2policy').rps, hap.rps)}`,
    `${p1('pc1').cpu.toFixed(0)} / ${p1('pc2policy').cpu.toFixed(0)} (${hap.cpu.toFixed(0)})`,
    `${mib(pc2.down)} / ${mib(pc2.up)}`,
    `${x(pc2.down, h2.down)} / ${x(pc2.up, h2.up)}`,
    `${pc2.downCpu.toFixed(2)} / ${pc2.upCpu.toFixed(2)} (${h2.downCpu.toFixed(2)} / ${h2.upCpu.toFixed(2)})`,
    `${(((pc3.after - pc3.before) * 20000) / pc3.n / 2 ** 30).toFixed(2)} GiB`,
    `${(r.p4.get('pc2')!.p50 - direct).toFixed(3)} ms`,
    `${r.p5.toFixed(0)} ms`,
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')}, ${r.rounds} round(s) of ${r.seconds} s`,
  ];
  return `| ${cells.join(' | ')} |`;
}

/** The section with `row` in place of an earlier row of the same runtime line. */
export function runtimeSection(existing: string | undefined, row: string): string {
  const rows = (existing ? sectionOf(existing) : '').split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| gateway runtime'));
  const kept = rows.filter((l) => rowKey(l) !== rowKey(row));
  const all = [...kept, row].sort((a, b) => rowKey(a).localeCompare(rowKey(b), 'en', { numeric: true }));
  return [HEADING, '', INTRO, '', `| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => '---').join('|')}|`, ...all].join('\n');
}

function sectionOf(text: string): string {
  const start = text.indexOf(HEADING);
  if (start < 0) return '';
  // The section ends at the next heading or at the next section marker (P6 and P7 sit between
  // <!-- …:begin/end --> markers, which a runtime run must leave in place).
  const ends = [text.indexOf('\n## ', start + HEADING.length), text.indexOf('\n<!--', start + HEADING.length)].filter((i) => i >= 0);
  return text.slice(start, ends.length ? Math.min(...ends) + 1 : undefined);
}

/** A `--runtime` run: only its row changes in the file; everything else stays as the last full run wrote it. */
export function writeRuntimeRow(r: Results, rt: GatewayRuntime, file: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = runtimeSection(text, runtimeRow(r, rt));
  const old = sectionOf(text);
  writeFileSync(file, old ? text.replace(old, () => `${section}\n`) : `${text.trimEnd()}\n\n${section}\n`);
}
