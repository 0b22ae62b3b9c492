// In-process test environment: a CA, the lab Exchange and the gateway, all on port 0.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { type Runtime, startRuntime } from '../../src/cli/runtime.js';
import { labOptions } from '../../src/cli/lab-defaults.js';
import { loadDirectoryFile } from '../../src/directory/file-directory.js';
import { createCa, issueServerCert } from '../../src/lab/certs.js';
import type { LabOptions } from '../../src/lab/lab-context.js';
import { type Lab, startLab } from '../../src/lab/lab-server.js';
import type { Gateway } from '../../src/listen/gateway.js';

/** An RPC target the edge allows by default: a mailbox GUID at an accepted domain, store port. */
export const RPC_TARGET = '2f1e5a4c-0d4e-4c3b-9a1f-7e6d5c4b3a21@lab.example:6001';

export const DEMO_DIRECTORY = new URL('../../examples/demo/directory.yaml', import.meta.url).pathname;

export interface Pki {
  /** The test CA itself, to issue more certificates it signs (doctor scenarios). */
  readonly issuer: Awaited<ReturnType<typeof createCa>>;
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
      writeFileSync(path.join(dir, n), s, { mode: 0o600 });
      return path.join(dir, n);
    };
    return {
      issuer: ca,
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

export const DEMO_POLICY = {
  defaults: { external: 'deny', internal: 'allow' },
  rules: [
    { name: 'outlook-remote', effect: 'allow', zones: ['external'], protocols: ['autodiscover', 'mapi', 'rpc', 'ews', 'oab', 'owa'], groups: ['Outlook-Remote'] },
    { name: 'mobile', effect: 'allow', zones: ['external'], protocols: ['autodiscover', 'eas'], groups: ['Mobile-Only'] },
    { name: 'mapi-only', effect: 'allow', zones: ['external'], protocols: ['autodiscover', 'mapi', 'ews', 'oab'], groups: ['MAPI-Only'] },
  ],
};

export interface Env {
  readonly pki: Pki;
  readonly lab: Lab;
  readonly runtime: Runtime;
  readonly gateway: Gateway;
  /** The config and directory files the running gateway watches (tests edit them). */
  readonly configFile: string;
  readonly directoryFile: string;
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export interface EnvOptions {
  readonly lab?: Partial<LabOptions>;
  /** Deep-partial config overrides, merged over the defaults below. */
  readonly config?: (base: Record<string, unknown>) => Record<string, unknown>;
  readonly upstreamUrl?: string;
  /** Watch the files for changes (hot reload), as `portcullis serve` does. */
  readonly watch?: boolean;
}

/** An admin request's headers: the token the runtime generated in the env's folder, and JSON. */
export function adminHeaders(env: { readonly runtime: Runtime }): Record<string, string> {
  return { Authorization: `Bearer ${env.runtime.admin!.token}`, 'Content-Type': 'application/json' };
}

/** The lab on a free loopback port with the demo directory's users, as the gateway tests use it. */
export async function demoLab(pki: Pki, opts: Partial<LabOptions> = {}): Promise<Lab> {
  const d = loadDirectoryFile(DEMO_DIRECTORY);
  if (!d.ok) throw new Error('demo directory invalid');
  return startLab(labOptions(d.directory, 'https://127.0.0.1:1', opts), { host: '127.0.0.1', port: 0, cert: readFileSync(pki.labCert), key: readFileSync(pki.labKey) });
}

export async function startEnv(opts: EnvOptions = {}): Promise<Env> {
  const pki = await testPki();
  const d = loadDirectoryFile(DEMO_DIRECTORY);
  if (!d.ok) throw new Error('demo directory invalid');
  const lab = await startLab(labOptions(d.directory, 'https://127.0.0.1:1', opts.lab ?? {}), {
    host: '127.0.0.1',
    port: 0,
    cert: readFileSync(pki.labCert),
    key: readFileSync(pki.labKey),
  });
  const dir = mkdtempSync(path.join(pki.dir, 'env-'));
  const directoryFile = path.join(dir, 'directory.yaml');
  copyFileSync(DEMO_DIRECTORY, directoryFile);
  const base: Record<string, unknown> = {
    listeners: [{ name: 'external', address: '127.0.0.1', port: 0, zone: 'external', tls: { certificates: [{ cert: pki.gatewayCert, key: pki.gatewayKey }] } }],
    upstream: { url: opts.upstreamUrl ?? lab.url, tls: { ca: pki.caFile }, connectTimeout: '2s' },
    directory: { provider: 'file', file: directoryFile },
    policy: DEMO_POLICY,
    admin: { address: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
  };
  const configFile = path.join(dir, 'portcullis.yaml');
  writeFileSync(configFile, stringify(opts.config ? opts.config(base) : base));
  const loaded = loadConfig(configFile);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  const runtime = await startRuntime(configFile, loaded.config, pino({ level: process.env.PORTCULLIS_TEST_LOG ?? 'silent' }), { watch: opts.watch ?? false });
  const gateway = runtime.gateway;
  const port = gateway.listeners[0]!.port;
  lab.state.externalUrl = `https://127.0.0.1:${port}`;
  // The published name is the gateway's own address, known only now: publish it and reload.
  const written = parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  if (!written['autodiscover']) {
    written['autodiscover'] = { namespaces: [{ internal: 'exch01.lab.local', external: `127.0.0.1:${port}` }], publishedNames: ['127.0.0.1'] };
    writeFileSync(configFile, stringify(written));
    if (!(await runtime.reload())) throw new Error('test env: reload with the published namespace failed');
  }
  return {
    pki,
    lab,
    runtime,
    gateway,
    configFile,
    directoryFile,
    port,
    url: `https://127.0.0.1:${port}`,
    async stop() {
      await runtime.stop();
      await lab.stop();
    },
  };
}
