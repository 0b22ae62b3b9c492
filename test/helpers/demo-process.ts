// `portcullis demo` as a child process on free ports with its own state folder (never the
// repository's .demo/), started from the repository root like `npm run demo`.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const BIN = path.join(ROOT, 'bin/portcullis.js');

export interface DemoRun {
  readonly proc: ChildProcess;
  readonly ports: { port: number; labPort: number; adminPort: number; dnsPort: number };
  readonly state: string;
  /** Everything the demo wrote to its terminal (stdout and stderr) until the banner ended. */
  readonly terminal: string;
  stop(): Promise<void>;
}

/** A port free right now (the demo needs numbers up front: they go into its banner and config). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startDemo(state: string, ports?: DemoRun['ports']): Promise<DemoRun> {
  const p = ports ?? { port: await freePort(), labPort: await freePort(), adminPort: await freePort(), dnsPort: await freePort() };
  const proc = spawn(process.execPath, [BIN, 'demo', '--port', String(p.port), '--lab-port', String(p.labPort), '--admin-port', String(p.adminPort), '--dns-port', String(p.dnsPort), '--state', state], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  let terminal = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not print its banner in 30 s:\n${terminal}`)), 30_000);
    const on = (d: Buffer) => {
      terminal += d.toString();
      if (terminal.includes('Ctrl-C stops the demo.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${terminal}`)));
  });
  return {
    proc,
    ports: p,
    state,
    terminal,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
