// The demo's certificates live in its state folder (.demo/ by default) and are kept across runs:
// a browser or an OS trust store that trusts the demo CA once keeps trusting it. Each file is made
// again only when it is missing, unreadable, expires within a day, no longer chains to the CA, or
// (for the server certificates) names other hosts than the demo needs.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueServerCert, loadCa } from './certs.js';

const DAY_MS = 86_400_000;

export interface DemoPki {
  readonly dir: string;
  readonly caFile: string;
  readonly gateway: { certFile: string; keyFile: string };
  readonly lab: { certFile: string; keyFile: string };
  /** The files made by this run (empty when everything was kept). */
  readonly created: readonly string[];
}

const GATEWAY_NAMES = { names: ['mail.lab.example', 'autodiscover.lab.example', 'localhost'], ips: ['127.0.0.1', '::1'] };
const LAB_NAMES = { names: ['exch01.lab.local', 'localhost'], ips: ['127.0.0.1', '::1'] };

function readCert(file: string): X509Certificate | undefined {
  try {
    return new X509Certificate(readFileSync(file));
  } catch {
    return undefined;
  }
}

const fresh = (c: X509Certificate, now: number) => new Date(c.validFrom).getTime() <= now && new Date(c.validTo).getTime() > now + DAY_MS;

/** The subjectAltName as a sorted list ("DNS:a", "IP Address:127.0.0.1"), to compare with what the demo needs. */
function sanOf(c: X509Certificate): string {
  return (c.subjectAltName ?? '').split(', ').sort().join(', ');
}

function wanted(n: { names: readonly string[]; ips: readonly string[] }): string {
  // OpenSSL prints IPv6 addresses in full: ::1 is 0:0:0:0:0:0:0:1.
  const ip = (a: string) => (a === '::1' ? '0:0:0:0:0:0:0:1' : a);
  return [...n.names.map((d) => `DNS:${d}`), ...n.ips.map((a) => `IP Address:${ip(a)}`)].sort().join(', ');
}

function keyMatches(c: X509Certificate, keyFile: string): boolean {
  try {
    return c.checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch {
    return false;
  }
}

/** Reuses or makes the demo CA and its gateway and lab certificates in `dir`. */
export async function ensureDemoPki(dir: string, now = Date.now()): Promise<DemoPki> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const created: string[] = [];
  let caCert = readCert(f('ca.crt'));
  let ca: Awaited<ReturnType<typeof loadCa>> | undefined;
  if (caCert && fresh(caCert, now) && caCert.ca && existsSync(f('ca.key'))) {
    try {
      ca = await loadCa(readFileSync(f('ca.crt'), 'utf8'), readFileSync(f('ca.key'), 'utf8'));
    } catch {
      ca = undefined;
    }
  }
  if (!ca) {
    const made = await createCa();
    // The CA key stays beside its certificate (mode 0600) so a later run can issue new server certificates under the same CA.
    writeFileSync(f('ca.key'), made.key, { mode: 0o600 });
    writeFileSync(f('ca.crt'), made.cert);
    created.push(f('ca.crt'));
    ca = made;
    caCert = new X509Certificate(made.cert);
  }
  const leaf = async (name: string, names: typeof GATEWAY_NAMES) => {
    const c = readCert(f(`${name}.crt`));
    const ok = c && fresh(c, now) && c.checkIssued(caCert!) && c.verify(caCert!.publicKey) && sanOf(c) === wanted(names) && keyMatches(c, f(`${name}.key`));
    if (ok) return;
    const pem = await issueServerCert(ca!, names);
    writeFileSync(f(`${name}.key`), pem.key, { mode: 0o600 });
    writeFileSync(f(`${name}.crt`), pem.cert + caCert!.toString());
    created.push(f(`${name}.crt`));
  };
  await leaf('gateway', GATEWAY_NAMES);
  await leaf('lab', LAB_NAMES);
  return {
    dir,
    caFile: f('ca.crt'),
    gateway: { certFile: f('gateway.crt'), keyFile: f('gateway.key') },
    lab: { certFile: f('lab.crt'), keyFile: f('lab.key') },
    created,
  };
}
