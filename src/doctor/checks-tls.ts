import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { type Outcome, finding, skip } from './check.js';
import { type CertFacts, describeChain, judgeChain } from './chain.js';
import { followAia, revocationReachability, trustStore } from './chain-fetch.js';
import type { ProbeContext } from './probe-context.js';
import { type Peer, type TlsVersion, sentChain, shortTlsError } from './tls-probe.js';
import type { Finding } from './types.js';

export function sanNames(cert: tls.PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.startsWith('DNS:') || x.startsWith('IP Address:'))
    .map((x) => x.replace(/^DNS:|^IP Address:/, '').toLowerCase());
}

export function covers(names: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return names.some((n) => n === h || (n.startsWith('*.') && h.endsWith(n.slice(1)) && h.split('.').length === n.split('.').length));
}

function nameOf(dn: tls.Certificate | undefined): string {
  const v = dn?.CN ?? dn?.O;
  return (Array.isArray(v) ? v[0] : v) ?? '?';
}

function facts(c: tls.PeerCertificate): CertFacts {
  return { subject: nameOf(c.subject), issuer: nameOf(c.issuer), validFrom: Date.parse(c.valid_from), validTo: Date.parse(c.valid_to) };
}

let store: { key: unknown; certs: X509Certificate[]; fingerprints: Set<string> } | undefined;
function trusted(p: ProbeContext) {
  const anchors = p.ca ?? tls.rootCertificates;
  if (store?.key !== anchors) {
    const certs = trustStore(anchors);
    store = { key: anchors, certs, fingerprints: new Set(certs.map((c) => c.fingerprint256)) };
  }
  return store;
}

/** The handshake clients make (TLS 1.2/1.3); if only older versions work, the certificate is still read over them. */
async function firstHandshake(p: ProbeContext): Promise<{ peer: Peer; note?: string } | { error: string }> {
  try {
    return { peer: await p.handshake() };
  } catch (e) {
    const error = shortTlsError((e as Error).message);
    for (const v of ['TLSv1.1', 'TLSv1'] as const) {
      const peer = await p.handshake(v).catch(() => undefined);
      if (peer) return { peer, note: `no TLS 1.2/1.3 handshake (${error}); certificate read over ${v}, the best version the server offers` };
    }
    return { error };
  }
}

export async function tlsCertificate(p: ProbeContext): Promise<Outcome> {
  if (!p.reachable) return skip('TCP connection failed');
  const first = await firstHandshake(p);
  if ('error' in first) {
    p.blockedBy = `no TLS handshake with ${p.host}:${p.port} (see TLS)`;
    return { status: 'fail', evidence: [first.error], findings: [finding('TLS-HANDSHAKE-FAILED', first.error)] };
  }
  const { peer, note } = first;
  if (note) p.blockedBy = `${p.host}:${p.port} offers no TLS 1.2 or 1.3 (see TLS)`;
  const cert = peer.cert;
  p.certNames = sanNames(cert);
  const trust = trusted(p);
  const sent = sentChain(cert, trust.fingerprints);
  p.sentCerts = sent;
  const now = Date.now();
  const chain = sent.map(facts);
  const findings: Finding[] = [];
  const evidence = [
    ...(note ? [note] : []),
    `protocol ${peer.protocol}, subject ${nameOf(cert.subject)}, issuer ${nameOf(cert.issuer)}`,
    `subjectAltName: ${p.certNames.join(', ') || '(none)'}`,
    `valid ${cert.valid_from} .. ${cert.valid_to} (${Math.floor((Date.parse(cert.valid_to) - now) / 86_400_000)} days left)`,
    `SHA-256 ${cert.fingerprint256}`,
    `chain: ${describeChain(chain)}`,
  ];
  let verdict = judgeChain(chain, peer.error, 'none', now);
  if (verdict.kind === 'incomplete' || (verdict.kind === 'untrusted' && chain.length > 1 && /not a trusted root/.test(verdict.why))) {
    const aia = await followAia(sent.at(-1)!, trust.certs, Math.min(5000, p.opts.timeoutMs));
    evidence.push(aia.evidence);
    verdict = judgeChain(chain, peer.error, aia.result, now);
  }
  switch (verdict.kind) {
    case 'trusted':
      evidence.push('trust: the chain leads to a trusted root');
      break;
    case 'expired': {
      const when = `${verdict.notYetValid ? 'not valid before' : 'expired'} ${new Date(verdict.notYetValid ? chain.find((c) => c.subject === verdict.name)!.validFrom : verdict.validTo).toISOString().slice(0, 10)}`;
      evidence.push(`trust: '${verdict.name}' ${when}`);
      findings.push(finding(verdict.which === 'leaf' ? 'TLS-CERT-EXPIRED' : 'TLS-INTERMEDIATE-EXPIRED', `'${verdict.name}' ${when}`));
      break;
    }
    case 'incomplete':
      evidence.push(`trust: the issuer '${verdict.missing}' was not sent and is not a trusted root`);
      findings.push(finding('TLS-CHAIN-INCOMPLETE', `intermediate '${verdict.missing}' missing: send leaf + intermediate (${verdict.sent} certificate${verdict.sent === 1 ? '' : 's'} sent)${verdict.confirmed ? '; the AIA URL serves it and a trusted root signed it' : `; if '${verdict.missing}' is instead a private root CA, the clients must trust it`}`));
      break;
    case 'untrusted':
      evidence.push(`trust: NOT trusted (${verdict.why})`);
      findings.push(finding('TLS-CERT-UNTRUSTED', verdict.why));
  }
  const leafDays = Math.floor((Date.parse(cert.valid_to) - now) / 86_400_000);
  if (verdict.kind !== 'expired' && (Date.parse(cert.valid_to) < now || Date.parse(cert.valid_from) > now)) findings.push(finding('TLS-CERT-EXPIRED', `valid ${cert.valid_from} .. ${cert.valid_to}`));
  else if (leafDays >= 0 && leafDays < 30) findings.push(finding('TLS-CERT-EXPIRING', `${leafDays} days left`));
  if (!covers(p.certNames, p.host)) findings.push(finding('TLS-NAME-MISMATCH', `${p.host} is not in ${p.certNames.join(', ') || '(no names)'}`));
  else if (!net.isIP(p.host)) {
    // Other published names matter only once the certificate fits the host itself (else that is the one problem).
    const name = `autodiscover.${p.domain}`;
    if ((await p.resolve(name)).length > 0 && !covers(p.certNames, name)) findings.push(finding('TLS-SAN-MISSING', name));
  }
  const status = findings.some((f) => f.id !== 'TLS-CERT-EXPIRING') ? 'fail' : findings.length ? 'warn' : 'pass';
  return { status, evidence, findings };
}

const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Each version on its own; TLS 1.0/1.1 only to report them (the doctor never uses them afterwards). */
export async function tlsVersions(p: ProbeContext): Promise<Outcome> {
  if (!p.reachable) return skip('TCP connection failed');
  const offered = new Map<TlsVersion, string>();
  const evidence: string[] = [];
  for (const v of VERSIONS) {
    try {
      const peer = await p.handshake(v);
      offered.set(v, peer.cipher);
      evidence.push(`${v}: offered (${peer.cipher})`);
    } catch (e) {
      evidence.push(`${v}: not offered (${shortTlsError((e as Error).message)})`);
    }
  }
  if (offered.size === 0) return { status: 'fail', evidence };
  if (offered.has('TLSv1.2')) return { status: 'pass', evidence };
  const old = VERSIONS.filter((v) => offered.has(v) && (v === 'TLSv1' || v === 'TLSv1.1'));
  if (!offered.has('TLSv1.3')) return { status: 'fail', evidence, findings: [finding('TLS-OLD-ONLY', `offered: ${old.join(', ')}; not offered: TLSv1.2, TLSv1.3`)] };
  return { status: 'warn', evidence, findings: [finding('TLS-12-MISSING', `offered: ${[...offered.keys()].join(', ')}`)] };
}

export async function tlsSameAsUpstream(p: ProbeContext): Promise<Outcome> {
  if (!p.opts.upstream) return skip('no --upstream given');
  const b = p.blocked();
  if (b) return b;
  const u = new URL(p.opts.upstream);
  const uhost = u.hostname.replace(/^\[|\]$/g, '');
  const [front, back] = await Promise.all([p.handshake(), p.handshake(undefined, undefined, uhost, (await p.resolve(uhost))[0] ?? uhost, Number(u.port || 443))]);
  const evidence = [`gateway  SHA-256 ${front.cert.fingerprint256}`, `Exchange SHA-256 ${back.cert.fingerprint256}`];
  if (front.cert.fingerprint256 === back.cert.fingerprint256) return { status: 'pass', evidence };
  return { status: 'warn', evidence, findings: [finding('TLS-CERT-DIFFERS-FROM-EXCHANGE', 'different certificates')] };
}

/** Clients that check revocation (hard-fail on some phones and on Windows with policy) need OCSP or the CRL to answer. */
export async function tlsRevocation(p: ProbeContext): Promise<Outcome> {
  if (p.sentCerts.length === 0) return skip('no certificate was read');
  const results = await revocationReachability(p.sentCerts, Math.min(5000, p.opts.timeoutMs));
  if (results.length === 0) return { status: 'info', evidence: ['no http:// OCSP or CRL URL in the certificates sent'] };
  const evidence = results.map((r) => `${r.kind} ${r.url}: ${r.ok ? 'answers' : 'NOT reachable'} (${r.detail})`);
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) return { status: 'pass', evidence };
  return { status: 'warn', evidence, findings: [finding('TLS-REVOCATION-UNREACHABLE', bad.map((r) => `${r.kind} ${r.url} (${r.detail})`).join(', '))] };
}
