// `portcullis serve` as a child process, its JSON log lines collected for the test to wait on.
import { type ChildProcess, spawn } from 'node:child_process';

const BIN = new URL('../../bin/portcullis.js', import.meta.url).pathname;

export interface Served {
  readonly proc: ChildProcess;
  readonly lines: Array<Record<string, unknown>>;
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

export function serve(config: string): Served {
  const proc = spawn(process.execPath, [BIN, 'serve', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let rest = '';
  proc.stdout!.on('data', (d: Buffer) => {
    rest += d.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
    waiters.splice(0).forEach((w) => w());
  });
  proc.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  return {
    proc,
    lines,
    async waitFor(pred, ms = 15_000) {
      const t0 = Date.now();
      for (;;) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (Date.now() - t0 > ms) throw new Error(`log line not seen; got: ${lines.map((l) => l['msg']).join(' | ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** The first listener's port and the admin endpoint's URL, once the gateway has said both. */
export async function readyAt(gw: Served, ms?: number): Promise<{ port: number; admin: string }> {
  const ready = await gw.waitFor((l) => l['msg'] === 'gateway ready', ms);
  const port = (ready['listeners'] as Array<{ port: number }>)[0]!.port;
  const admin = `http://127.0.0.1:${(await gw.waitFor((l) => l['msg'] === 'admin endpoint listening', ms))['port']}`;
  return { port, admin };
}

/** SIGTERM, and the exit awaited (nothing to do once it has exited). */
export async function stopServed(gw: Served): Promise<void> {
  if (gw.proc.exitCode !== null || gw.proc.signalCode !== null) return;
  const exited = new Promise((r) => gw.proc.once('exit', r));
  gw.proc.kill('SIGTERM');
  await exited;
}
