import net from 'node:net';
import tls from 'node:tls';
import { type Outcome, finding, skip } from './check.js';
import type { ProbeContext } from './probe-context.js';

export async function dnsHost(p: ProbeContext): Promise<Outcome> {
  if (net.isIP(p.host)) return { status: 'info', evidence: [`${p.host} is an address literal; no DNS lookup`] };
  const addrs = await p.resolve(p.host);
  if (addrs.length === 0) return { status: 'fail', evidence: [`${p.host}: no A or AAAA record`], findings: [finding('DNS-HOST-UNRESOLVED', p.host)] };
  p.address = addrs[0];
  return { status: 'pass', evidence: [`${p.host} -> ${addrs.join(', ')}`] };
}

export async function dnsAutodiscover(p: ProbeContext): Promise<Outcome> {
  if (!p.domain || net.isIP(p.domain)) return skip('no mail domain (use --email user@domain)');
  const name = `autodiscover.${p.domain}`;
  const a = await p.resolve(name);
  const cname = await p.resolver.resolveCname(name).catch(() => [] as string[]);
  const srv = await p.resolver.resolveSrv(`_autodiscover._tcp.${p.domain}`).catch(() => []);
  const evidence = [
    `${name} -> ${a.length ? a.join(', ') : 'no address'}${cname.length ? ` (CNAME ${cname.join(', ')})` : ''}`,
    `_autodiscover._tcp.${p.domain} SRV -> ${srv.length ? srv.map((s) => `${s.name}:${s.port} (priority ${s.priority}, weight ${s.weight})`).join(', ') : 'none'}`,
  ];
  if (a.length > 0) return { status: 'pass', evidence };
  if (srv.length > 0) return { status: 'warn', evidence, findings: [finding('DNS-AUTODISCOVER-SRV-ONLY', name)] };
  return { status: 'fail', evidence, findings: [finding('DNS-AUTODISCOVER-MISSING', `${name} and _autodiscover._tcp.${p.domain}`)] };
}

export function tcpConnect(p: ProbeContext): Promise<Outcome> {
  if (!p.address) return Promise.resolve(skip(`${p.host} did not resolve`));
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect({ host: p.address!, port: p.port });
    const timer = setTimeout(() => s.destroy(new Error('ETIMEDOUT')), p.opts.timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - t0);
      s.destroy();
      p.reachable = true;
      resolve({ status: ms > 1000 ? 'warn' : 'pass', evidence: [`connected to ${p.address}:${p.port} in ${ms} ms`], findings: ms > 1000 ? [finding('NET-CONNECT-SLOW', `${ms} ms`)] : [] });
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ status: 'fail', evidence: [`${p.address}:${p.port}: ${e.code ?? e.message}`], findings: [finding('NET-PORT-CLOSED', `${p.address}:${p.port} (${e.code ?? e.message})`)] });
    });
  });
}

interface Peer {
  readonly cert: tls.DetailedPeerCertificate;
  readonly authorized: boolean;
  readonly error: string | undefined;
  readonly protocol: string | null;
}

function handshake(p: ProbeContext, host: string, address: string, port: number, versions?: { min: tls.SecureVersion; max: tls.SecureVersion }): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      {
        host: address,
        port,
        ...(net.isIP(host) ? {} : { servername: host }),
        rejectUnauthorized: false,
        ...(p.ca ? { ca: p.ca } : {}),
        ...(versions ? { minVersion: versions.min, maxVersion: versions.max } : {}),
      },
      () => {
        const e = s.authorizationError as unknown;
        resolve({ cert: s.getPeerCertificate(true), authorized: s.authorized, error: e ? String((e as Error).message ?? e) : undefined, protocol: s.getProtocol() });
        s.destroy();
      },
    );
    s.setTimeout(p.opts.timeoutMs, () => s.destroy(new Error('TLS handshake timed out')));
    s.once('error', reject);
  });
}

function sanNames(cert: tls.PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.startsWith('DNS:') || x.startsWith('IP Address:'))
    .map((x) => x.replace(/^DNS:|^IP Address:/, '').toLowerCase());
}

function covers(names: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return names.some((n) => n === h || (n.startsWith('*.') && h.endsWith(n.slice(1)) && h.split('.').length === n.split('.').length));
}

export async function tlsCertificate(p: ProbeContext): Promise<Outcome> {
  if (!p.reachable) return skip('TCP connection failed');
  let peer: Peer;
  try {
    peer = await handshake(p, p.host, p.address!, p.port);
  } catch (e) {
    return { status: 'fail', evidence: [(e as Error).message], findings: [finding('TLS-HANDSHAKE-FAILED', (e as Error).message)] };
  }
  const cert = peer.cert;
  p.certNames = sanNames(cert);
  const findings = [];
  const now = Date.now();
  const to = Date.parse(cert.valid_to);
  const from = Date.parse(cert.valid_from);
  const days = Math.floor((to - now) / 86_400_000);
  const evidence = [
    `protocol ${peer.protocol}, subject ${cert.subject?.CN ?? '?'}, issuer ${cert.issuer?.CN ?? '?'}`,
    `subjectAltName: ${p.certNames.join(', ') || '(none)'}`,
    `valid ${cert.valid_from} .. ${cert.valid_to} (${days} days left)`,
    `SHA-256 ${cert.fingerprint256}`,
    `trust: ${peer.authorized ? 'trusted' : `NOT trusted (${peer.error})`}`,
  ];
  if (to < now || from > now) findings.push(finding('TLS-CERT-EXPIRED', `valid ${cert.valid_from} .. ${cert.valid_to}`));
  else if (days < 30) findings.push(finding('TLS-CERT-EXPIRING', `${days} days left`));
  if (!peer.authorized && !/expired|not yet valid/i.test(peer.error ?? '')) findings.push(finding('TLS-CERT-UNTRUSTED', peer.error ?? 'untrusted'));
  if (!covers(p.certNames, p.host)) findings.push(finding('TLS-NAME-MISMATCH', `${p.host} is not in ${p.certNames.join(', ')}`));
  const published = [`autodiscover.${p.domain}`];
  for (const name of published) {
    if (!net.isIP(p.host) && (await p.resolve(name)).length > 0 && !covers(p.certNames, name)) findings.push(finding('TLS-SAN-MISSING', name));
  }
  const status = findings.some((f) => f.id !== 'TLS-CERT-EXPIRING') ? 'fail' : findings.length ? 'warn' : 'pass';
  return { status, evidence, findings };
}

export async function tlsVersions(p: ProbeContext): Promise<Outcome> {
  if (!p.reachable) return skip('TCP connection failed');
  const results: string[] = [];
  let ok12 = false;
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    try {
      await handshake(p, p.host, p.address!, p.port, { min: v, max: v });
      results.push(`${v}: offered`);
      if (v === 'TLSv1.2') ok12 = true;
    } catch {
      results.push(`${v}: not offered`);
    }
  }
  return ok12 ? { status: 'pass', evidence: results } : { status: 'fail', evidence: results, findings: results.every((r) => r.endsWith('not offered')) ? [finding('TLS-HANDSHAKE-FAILED', 'neither TLS 1.2 nor 1.3')] : [finding('TLS-OLD-ONLY', 'TLS 1.2 not offered')] };
}

export async function tlsSameAsUpstream(p: ProbeContext): Promise<Outcome> {
  if (!p.opts.upstream) return skip('no --upstream given');
  if (!p.reachable) return skip('TCP connection failed');
  const u = new URL(p.opts.upstream);
  const uhost = u.hostname.replace(/^\[|\]$/g, '');
  const [front, back] = await Promise.all([handshake(p, p.host, p.address!, p.port), handshake(p, uhost, (await p.resolve(uhost))[0] ?? uhost, Number(u.port || 443))]);
  const evidence = [`gateway  SHA-256 ${front.cert.fingerprint256}`, `Exchange SHA-256 ${back.cert.fingerprint256}`];
  if (front.cert.fingerprint256 === back.cert.fingerprint256) return { status: 'pass', evidence };
  return { status: 'warn', evidence, findings: [finding('TLS-CERT-DIFFERS-FROM-EXCHANGE', 'different certificates')] };
}
