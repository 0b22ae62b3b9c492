// In-process test environment: a CA, the lab Exchange and the gateway, all on port 0.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { labOptions } from '../../src/cli/lab-defaults.js';
import { type GatewayConfig, configSchema } from '../../src/config/schema.js';
import { loadDirectoryFile } from '../../src/directory/file-directory.js';
import { createCa, issueServerCert } from '../../src/lab/certs.js';
import type { LabOptions } from '../../src/lab/lab-context.js';
import { type Lab, startLab } from '../../src/lab/lab-server.js';
import { type Gateway, startGateway } from '../../src/listen/gateway.js';

export const DEMO_DIRECTORY = new URL('../../examples/demo/directory.yaml', import.meta.url).pathname;

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: string;
  readonly gatewayCert: string;
  readonly gatewayKey: string;
  readonly labCert: string;
  readonly labKey: string;
}

let pkiPromise: Promise<Pki> | undefined;

export function testPki(): Promise<Pki> {
  pkiPromise ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-test-'));
    const ca = await createCa('Portcullis Test CA');
    const gw = await issueServerCert(ca, { names: ['mail.lab.example', 'autodiscover.lab.example', 'localhost'], ips: ['127.0.0.1'] });
    const lab = await issueServerCert(ca, { names: ['exch01.lab.local', 'localhost'], ips: ['127.0.0.1'] });
    const f = (n: string, s: string) => {
      writeFileSync(path.join(dir, n), s);
      return path.join(dir, n);
    };
    return {
      dir,
      caFile: f('ca.crt', ca.cert),
      ca: ca.cert,
      gatewayCert: f('gateway.crt', gw.cert + ca.cert),
      gatewayKey: f('gateway.key', gw.key),
      labCert: f('lab.crt', lab.cert + ca.cert),
      labKey: f('lab.key', lab.key),
    };
  })();
  return pkiPromise;
}

export interface Env {
  readonly pki: Pki;
  readonly lab: Lab;
  readonly gateway: Gateway;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface EnvOptions {
  readonly lab?: Partial<LabOptions>;
  /** Deep-partial config overrides, merged over the defaults below. */
  readonly config?: (base: Record<string, unknown>) => Record<string, unknown>;
  readonly upstreamUrl?: string;
}

export async function startEnv(opts: EnvOptions = {}): Promise<Env> {
  const pki = await testPki();
  const d = loadDirectoryFile(DEMO_DIRECTORY);
  if (!d.ok) throw new Error('demo directory invalid');
  const lab = await startLab(labOptions(d.directory, 'https://127.0.0.1:1', opts.lab ?? {}), {
    host: '127.0.0.1',
    port: 0,
    cert: (await import('node:fs')).readFileSync(pki.labCert),
    key: (await import('node:fs')).readFileSync(pki.labKey),
  });
  const base: Record<string, unknown> = {
    listeners: [{ name: 'external', address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
    upstream: { url: opts.upstreamUrl ?? lab.url, tls: { ca: pki.caFile }, connectTimeout: '2s' },
    log: { level: 'silent' },
  };
  const config: GatewayConfig = configSchema.parse(opts.config ? opts.config(base) : base);
  const gateway = await startGateway({ config, log: pino({ level: process.env.PORTCULLIS_TEST_LOG ?? 'silent' }) });
  const port = gateway.listeners[0]!.port;
  lab.state.externalUrl = `https://127.0.0.1:${port}`;
  return {
    pki,
    lab,
    gateway,
    port,
    url: `https://127.0.0.1:${port}`,
    async stop() {
      await gateway.stop();
      await lab.stop();
    },
  };
}
