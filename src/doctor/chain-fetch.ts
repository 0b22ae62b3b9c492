// The network half of the chain checks: fetch a missing issuer from the AIA caIssuers URL (what
// Windows does silently, and many phones do not), and see whether the revocation URLs (OCSP, CRL)
// in the certificates answer at all. Only http:// URLs are fetched, with a short time-out.
// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import type tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import type { AiaResult } from './chain.js';

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** The certificates clients trust (Node's root store, plus the --ca file's certificates), parsed. */
export function trustStore(anchors: ReadonlyArray<string | Buffer>): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of anchors.flatMap((x) => pemBlocks(x.toString()))) {
    try {
      out.push(new X509Certificate(pem));
    } catch {
      // an unreadable entry is not a trust anchor
    }
  }
  return out;
}

export function urlsOf(cert: tls.PeerCertificate, key: 'CA Issuers - URI' | 'OCSP - URI'): string[] {
  return (cert.infoAccess?.[key] ?? []).filter((u) => /^http:\/\//i.test(u));
}

export function crlUrlsOf(cert: tls.PeerCertificate): string[] {
  try {
    const ext = new x509.X509Certificate(cert.raw).getExtension(x509.CRLDistributionPointsExtension);
    return (ext?.distributionPoints ?? [])
      .flatMap((d) => d.distributionPoint?.fullName ?? [])
      .map((n) => n.uniformResourceIdentifier)
      .filter((u): u is string => typeof u === 'string' && /^http:\/\//i.test(u));
  } catch {
    return [];
  }
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; body: Buffer } | Error> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return new Error(cause ?? (e as Error).message);
  }
}

/** Fetches the issuer of `top` from its AIA URL and checks that it leads to a trusted root. */
export async function followAia(top: tls.PeerCertificate, store: readonly X509Certificate[], timeoutMs: number): Promise<{ result: AiaResult; evidence: string }> {
  const url = urlsOf(top, 'CA Issuers - URI')[0];
  if (!url) return { result: 'none', evidence: 'no AIA caIssuers URL in the certificate' };
  const r = await get(url, timeoutMs);
  if (r instanceof Error || r.status !== 200) return { result: 'none', evidence: `AIA ${url}: ${r instanceof Error ? r.message : `HTTP ${r.status}`}` };
  let issuer: X509Certificate;
  try {
    issuer = new X509Certificate(r.body);
  } catch {
    return { result: 'none', evidence: `AIA ${url}: not a certificate` };
  }
  const child = new X509Certificate(top.raw);
  if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) return { result: 'untrusted', evidence: `AIA ${url}: '${issuer.subject}' did not sign the certificate` };
  const anchored = store.some((root) => root.fingerprint256 === issuer.fingerprint256 || (issuer.checkIssued(root) && issuer.verify(root.publicKey)));
  return { result: anchored ? 'leads-to-trusted-root' : 'untrusted', evidence: `AIA ${url}: '${issuer.subject.replace(/\n/g, ', ')}'${anchored ? ', which a trusted root signed' : ', not signed by a trusted root'}` };
}

/** Each OCSP and CRL URL and whether it answers (any HTTP answer counts for OCSP; a CRL needs 200). */
export async function revocationReachability(certs: readonly tls.PeerCertificate[], timeoutMs: number): Promise<Array<{ url: string; kind: 'OCSP' | 'CRL'; ok: boolean; detail: string }>> {
  const targets = new Map<string, 'OCSP' | 'CRL'>();
  for (const c of certs) {
    for (const u of urlsOf(c, 'OCSP - URI')) targets.set(u, 'OCSP');
    for (const u of crlUrlsOf(c)) targets.set(u, 'CRL');
  }
  return Promise.all(
    [...targets].map(async ([url, kind]) => {
      const r = await get(url, timeoutMs);
      if (r instanceof Error) return { url, kind, ok: false, detail: r.message };
      const ok = kind === 'OCSP' ? r.status < 500 : r.status === 200;
      return { url, kind, ok, detail: `HTTP ${r.status}` };
    }),
  );
}
