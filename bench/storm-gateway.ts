// The gateway for the login storm, in a process of its own (forked by bench/storm.ts with the
// gateway's V8 flags): the same runtime `portcullis serve` runs, plus an IPC channel so the bench
// can read the directory's counters (LDAP operations caused) without an admin API for them.
// `--root DIR` runs another checkout's runtime (e.g. the code before issue #18, from `git archive`).
import { openSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';

const [configFile, flag, other] = process.argv.slice(2);
const root = path.resolve(flag === '--root' && other ? other : new URL('..', import.meta.url).pathname);
const { loadConfig } = (await import(path.join(root, 'src/config/load.ts'))) as typeof import('../src/config/load.js');
const { startRuntime } = (await import(path.join(root, 'src/cli/runtime.ts'))) as typeof import('../src/cli/runtime.js');

const loaded = loadConfig(configFile!);
if (!loaded.ok) {
  console.error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  process.exit(2);
}
const log = pino({ level: 'warn' }, pino.destination(openSync(`${configFile}.log`, 'a')));
const rt = await startRuntime(configFile!, loaded.config, log, { watch: false });
// How late the event loop runs callbacks (LDAP answers included) under the storm's TLS handshakes.
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
process.on('message', (m: string) => {
  if (m === 'stats') {
    process.send!({ stats: rt.state().directory.stats?.() ?? null, loopDelayMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 } });
    lag.reset();
  }
  if (m === 'stop') void rt.stop().then(() => process.exit(0));
});
process.send!({ ready: true, port: rt.gateway.listeners[0]!.port });
