// Two gateway instances, as an admin runs them behind a load balancer: A with one process, B with
// two workers, separate folders and ports, one PostgreSQL for their shared state. Each is
// `portcullis serve` as a child process.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { DEMO_DIRECTORY, DEMO_POLICY, type Pki } from './env.js';
import { type Served, serve, stopServed } from './served.js';

export interface Instance {
  readonly name: 'A' | 'B';
  readonly config: string;
  gw: Served;
  port: number;
  admin: string;
}

/** Starts (or starts again) one instance from its config; resolves when it serves. */
export async function startInstance(i: Instance): Promise<void> {
  i.gw = serve(i.config);
  i.port = Number((await i.gw.waitFor((l) => l['msg'] === 'listening'))['port']);
  i.admin = `http://127.0.0.1:${(await i.gw.waitFor((l) => l['msg'] === 'admin endpoint listening'))['port']}`;
  if (i.name === 'B') await i.gw.waitFor((l) => l['msg'] === 'gateway ready');
}

export const stopInstance = (i: Instance): Promise<void> => stopServed(i.gw);

/** A and B on `labUrl` and `pgUrl`, the demo directory and policy, `extra` config on top. */
export async function startInstances(pki: Pki, o: { labUrl: string; pgUrl: string; folder: string; extra?: Record<string, unknown> }): Promise<Instance[]> {
  const root = mkdtempSync(path.join(pki.dir, `${o.folder}-`));
  const out: Instance[] = [];
  for (const [name, workers] of [['A', 1], ['B', 2]] as const) {
    const dir = path.join(root, name);
    mkdirSync(dir);
    copyFileSync(DEMO_DIRECTORY, path.join(dir, 'directory.yaml'));
    const config = path.join(dir, 'portcullis.yaml');
    writeFileSync(
      config,
      stringify({
        workers,
        listeners: [{ address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
        upstream: { url: o.labUrl, tls: { ca: pki.caFile } },
        directory: { provider: 'file', file: path.join(dir, 'directory.yaml') },
        policy: DEMO_POLICY,
        state: { store: 'postgres', postgres: { url: o.pgUrl } },
        audit: { store: 'off' },
        admin: { address: '127.0.0.1', port: 0 },
        log: { level: 'info' },
        ...o.extra,
      }),
    );
    const i = { name, config, port: 0, admin: '' } as Instance;
    await startInstance(i);
    out.push(i);
  }
  return out;
}
