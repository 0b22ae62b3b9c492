// `npm run fuzz`: coverage-guided fuzzing of the HTTP head/chunked parsers and the NTLM/SPNEGO/
// credentials parsers, one campaign per target (fuzz/targets/), seeds from fuzz/corpus/<target>/.
// Prints per target executions, execs/s, corpus size, covered blocks at start and end, findings;
// saves findings to fuzz/findings/ and exits 1 if there were any. How it works: fuzz/README.md.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseArgs } from './engine/args.js';
import { type CampaignResult, runCampaign } from './engine/campaign.js';
import { createExecutor } from './engine/execute.js';
import { saveFinding } from './engine/findings.js';
import type { FuzzTarget } from './engine/target.js';
import { TARGETS } from './targets/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rel = (p: string) => path.relative(process.cwd(), p) || '.';

async function reproduce(name: string, file: string): Promise<number> {
  const target = ((await import(TARGETS[name]!)) as { default: FuzzTarget }).default;
  const input = readFileSync(file);
  const f = createExecutor(target, Infinity).run(input);
  if (!f) {
    console.log(`${name}: ${input.length}-byte input from ${file} passes every oracle`);
    return 0;
  }
  console.log(`${name}: ${f.kind}: ${f.message}\n${f.stack}`);
  return 1;
}

function row(r: CampaignResult): string {
  const s = r.stats;
  const rate = s.seconds > 0 ? Math.round(s.execs / s.seconds) : 0;
  return [
    r.name.padEnd(14), String(s.execs).padStart(8), String(rate).padStart(8), String(s.corpus).padStart(7),
    `${s.blocksStart} → ${s.blocks}`.padStart(12), String(s.knownBlocks).padStart(6), String(s.features).padStart(9),
    String(r.findings.length).padStart(9), s.seconds.toFixed(1).padStart(7),
  ].join(' ');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { findingsDir: path.join(here, 'findings'), corpusDir: path.join(here, 'corpus') });
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const names = args.targets.length > 0 ? args.targets : Object.keys(TARGETS);
  const unknown = names.filter((n) => !(n in TARGETS));
  if (unknown.length > 0) throw new Error(`unknown target ${unknown.join(', ')}; known: ${Object.keys(TARGETS).join(', ')}`);
  if (args.reproduce) {
    if (names.length !== 1) throw new Error('--reproduce needs exactly one --target');
    return reproduce(names[0]!, args.reproduce);
  }
  const cap = Number.isFinite(args.seconds) ? `, at most ${args.seconds} s each` : '';
  console.log(`fuzzing ${names.length} target(s): ${args.execs} new inputs each${cap}, seed ${args.seed}, batch ${args.batch}`);
  const header = 'target            execs  execs/s  corpus  blocks s→e  known  features  findings  time s';
  const results: CampaignResult[] = [];
  for (const name of names) {
    const started = performance.now();
    const result = await runCampaign({
      targetUrl: TARGETS[name]!, corpusDir: path.join(args.corpusDir, name), execs: args.execs, seconds: args.seconds, seed: args.seed,
      batch: args.batch, preciseEvery: args.preciseEvery, preciseCount: args.preciseCount, maxFindings: args.maxFindings,
      slowMs: args.slowMs, hangMs: args.hangMs,
      onProgress: (s) => {
        if (process.stdout.isTTY) process.stdout.write(`\r  ${name}: ${s.execs} execs, corpus ${s.corpus}, blocks ${s.blocks}   `);
      },
    });
    if (process.stdout.isTTY) process.stdout.write('\r\x1b[K');
    if (results.length === 0) console.log(header);
    console.log(`${row(result)}   (${((performance.now() - started) / 1000).toFixed(1)} s with start-up, ${result.stats.reruns} re-runs, ${result.stats.takes} coverage takes)`);
    for (const f of result.findings) {
      const saved = saveFinding(args.findingsDir, name, f);
      console.log(`    ${f.kind}: ${f.message.split('\n')[0]!.slice(0, 160)}\n      input: ${rel(saved)} (found at execution ${f.atExec ?? '?'})`);
    }
    results.push(result);
  }
  const total = results.reduce((n, r) => n + r.findings.length, 0);
  const execs = results.reduce((n, r) => n + r.stats.execs, 0);
  const secs = results.reduce((n, r) => n + r.stats.seconds, 0);
  console.log(`total: ${execs} executions in ${secs.toFixed(1)} s of fuzzing (${Math.round(execs / secs)}/s), ${total} finding(s)`);
  if (total > 0) console.log(`findings saved under ${rel(args.findingsDir)}/; replay one with --target NAME --reproduce FILE`);
  return total > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`fuzz: ${(e as Error).message}`);
    process.exit(2);
  },
);
