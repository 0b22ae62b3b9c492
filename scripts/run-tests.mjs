// Runs node:test over the TypeScript test files of the given suites. Node 20 does not expand
// globs for --test, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_V8_FLAGS } from '../bin/runtime.js';

const SUITES = {
  unit: ['src', 'fuzz'],
  integration: ['test'],
  interop: ['test/interop'],
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'node_modules') continue;
      walk(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const suites = process.argv.slice(2);
const files = [];
for (const s of suites.length ? suites : ['unit', 'integration']) {
  for (const dir of SUITES[s] ?? []) {
    for (const f of walk(dir)) {
      // integration = test/ without the real-peer tests, which need apt packages
      if (s === 'integration' && f.startsWith(path.join('test', 'interop'))) continue;
      files.push(f);
    }
  }
}
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The tests run the gateway in their own process, so with the V8 flags it always runs with
// (bin/runtime.js): on Node 24 and 26 without them streaming 1 GiB sets off a mark-compact
// collection every few MiB (docs/benchmarks.md, "Runtimes").
const r = spawnSync(process.execPath, [...GATEWAY_V8_FLAGS, '--expose-gc', '--import', 'tsx', '--test', '--test-concurrency=1', ...files.sort()], { stdio: 'inherit' });
process.exit(r.status ?? 1);
