// What `portcullis demo` runs with: its ports (options or environment variables), its state folder
// (certificates, admin token, log), the configuration it serves, and the banner it prints. The
// banner's commands are printed with the paths and ports of this run, so they work as printed
// (test/demo-banner.test.ts runs them).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, visit } from 'yaml';
import { generateKeyFile } from '../signin/secret-box.js';
import type { FileDirectory } from '../directory/file-directory.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const DEMO_CONFIG = path.join(ROOT, 'examples/demo/portcullis.yaml');
export const DEMO_DIRECTORY = path.join(ROOT, 'examples/demo/directory.yaml');

export interface DemoSettings {
  /** The gateway's HTTPS port (external zone). */
  readonly port: number;
  readonly labPort: number;
  readonly adminPort: number;
  readonly dnsPort: number;
  /** Certificates, admin token and log live here between runs. */
  readonly state: string;
}

export const DEMO_DEFAULTS: DemoSettings = { port: 8443, labPort: 9443, adminPort: 9090, dnsPort: 8053, state: path.join(ROOT, '.demo') };

/** Option name, environment variable and setting of each port. */
export const DEMO_PORTS = [
  { option: '--port', env: 'PORTCULLIS_DEMO_PORT', key: 'port', what: 'gateway HTTPS port' },
  { option: '--lab-port', env: 'PORTCULLIS_DEMO_LAB_PORT', key: 'labPort', what: 'lab Exchange HTTPS port' },
  { option: '--admin-port', env: 'PORTCULLIS_DEMO_ADMIN_PORT', key: 'adminPort', what: 'admin endpoint port' },
  { option: '--dns-port', env: 'PORTCULLIS_DEMO_DNS_PORT', key: 'dnsPort', what: 'DNS responder port (UDP and TCP)' },
] as const;
export const STATE_ENV = 'PORTCULLIS_DEMO_DIR';

/** A TCP/UDP port from an option or variable: a typo is refused with one line, not a NaN. */
export function portNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d{1,5}$/.test(value.trim()) || n < 1 || n > 65535) throw new Error(`${name} must be a port number from 1 to 65535, not "${value}"`);
  return n;
}

/** Options win over environment variables, which win over the defaults. Throws a one-line Error on a bad value. */
export function demoSettings(o: Partial<Record<'port' | 'labPort' | 'adminPort' | 'dnsPort' | 'state', string>>, env: NodeJS.ProcessEnv = process.env): DemoSettings {
  const out: Record<string, number | string> = { ...DEMO_DEFAULTS };
  for (const p of DEMO_PORTS) {
    const given = o[p.key] ?? env[p.env];
    if (given !== undefined && given !== '') out[p.key] = portNumber(o[p.key] !== undefined ? p.option : p.env, given);
  }
  const state = o.state ?? env[STATE_ENV];
  if (state) out['state'] = path.resolve(state);
  const s = out as unknown as DemoSettings;
  const ports = [s.port, s.labPort, s.adminPort];
  if (new Set(ports).size !== ports.length) throw new Error(`the gateway, lab and admin ports must differ (got ${ports.join(', ')})`);
  return s;
}

/** How examples/demo/portcullis.yaml names the default state folder (.demo/ in the checkout). */
const DEMO_STATE_PREFIX = '../../.demo/';

const isDefault = (s: DemoSettings) => DEMO_PORTS.every((p) => s[p.key] === DEMO_DEFAULTS[p.key]) && s.state === DEMO_DEFAULTS.state;

/**
 * The configuration the demo serves: examples/demo/portcullis.yaml itself with the default ports
 * and folder (so the README's `-c examples/demo/portcullis.yaml` is the running one), otherwise a
 * copy in the state folder with this run's ports and absolute paths (comments kept).
 */
export function demoConfigFile(s: DemoSettings, source: string): string {
  if (isDefault(s)) return DEMO_CONFIG;
  const doc = parseDocument(source);
  const f = (n: string) => path.join(s.state, n);
  doc.setIn(['listeners', 0, 'port'], s.port);
  // Every file and folder the example keeps in .demo/ (certificates, keys, token, the audit and
  // state data) goes to this run's state folder: relative to the copy they would point elsewhere.
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && node.value.startsWith(DEMO_STATE_PREFIX)) node.value = f(node.value.slice(DEMO_STATE_PREFIX.length));
    },
  });
  doc.setIn(['upstream', 'url'], `https://127.0.0.1:${s.labPort}`);
  doc.setIn(['directory', 'file'], DEMO_DIRECTORY);
  doc.setIn(['autodiscover', 'namespaces', 0, 'external'], `127.0.0.1:${s.port}`);
  doc.setIn(['admin', 'port'], s.adminPort);
  mkdirSync(s.state, { recursive: true });
  const file = f('portcullis.yaml');
  writeFileSync(file, `# Written by \`portcullis demo\` from examples/demo/portcullis.yaml for this run's ports; rewritten at every start.\n${doc.toString()}`);
  return file;
}

/**
 * The key that seals the demo's TOTP secrets, in the state folder: made at the first run, kept
 * afterwards (a new key would make every enrolled authenticator app useless).
 */
export function ensureDemoSecondFactorKey(state: string): string {
  const file = path.join(state, 'second-factor.key');
  mkdirSync(state, { recursive: true });
  if (!existsSync(file)) generateKeyFile(file);
  return file;
}

/** "alice, bob and carol", from the directory: the banner can only name users that exist. */
export function demoUsers(d: FileDirectory): { names: string; domain: string; password?: string } {
  const users = d.data.users;
  const names = users.map((u) => u.sAMAccountName);
  const passwords = new Set(users.map((u) => u.password));
  return {
    names: names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? ''),
    domain: d.data.domains.netbios[0] ?? '',
    ...(passwords.size === 1 && typeof users[0]?.password === 'string' ? { password: users[0].password } : {}),
  };
}
