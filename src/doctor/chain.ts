// Why a certificate chain is not trusted, told apart the way an admin needs it: an expired leaf or
// intermediate, an intermediate the server does not send, or a CA nobody trusts. The verdict is a
// pure function of the chain as sent, OpenSSL's verification code and (optionally) what the leaf's
// AIA caIssuers URL led to; the network part (fetching that URL) lives in chain-fetch.ts.

export interface CertFacts {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: number;
  readonly validTo: number;
}

/** What fetching the missing issuer from the AIA URL showed: it chains to a trusted root, it does not, or nothing could be fetched. */
export type AiaResult = 'leads-to-trusted-root' | 'untrusted' | 'none';

export type ChainVerdict =
  | { readonly kind: 'trusted' }
  | { readonly kind: 'expired'; readonly which: 'leaf' | 'intermediate'; readonly name: string; readonly validTo: number; readonly notYetValid: boolean }
  | { readonly kind: 'incomplete'; readonly missing: string; readonly sent: number; readonly confirmed: boolean }
  | { readonly kind: 'untrusted'; readonly why: string };

const ISSUER_NOT_FOUND = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT']);

export function judgeChain(sent: readonly CertFacts[], error: string | undefined, aia: AiaResult, now: number): ChainVerdict {
  // Node reports a name mismatch in the same field, but only once the chain itself verified.
  if (!error || error === 'ERR_TLS_CERT_ALTNAME_INVALID') return { kind: 'trusted' };
  if (error === 'CERT_HAS_EXPIRED' || error === 'CERT_NOT_YET_VALID') {
    const i = sent.findIndex((c) => c.validTo < now || c.validFrom > now);
    if (i < 0) return { kind: 'untrusted', why: 'a CA certificate in the local trust store has expired' };
    const c = sent[i]!;
    return { kind: 'expired', which: i === 0 ? 'leaf' : 'intermediate', name: c.subject, validTo: c.validTo, notYetValid: c.validFrom > now };
  }
  if (error === 'DEPTH_ZERO_SELF_SIGNED_CERT') return { kind: 'untrusted', why: `self-signed certificate '${sent[0]?.subject ?? '?'}': no CA vouches for it` };
  if (error === 'SELF_SIGNED_CERT_IN_CHAIN') return { kind: 'untrusted', why: `the chain ends at root '${sent.at(-1)?.issuer ?? '?'}', which clients do not trust (a private CA)` };
  if (ISSUER_NOT_FOUND.has(error) && sent.length > 0) {
    const top = sent.at(-1)!;
    if (top.subject === top.issuer) return { kind: 'untrusted', why: `'${top.subject}' is self-issued and not trusted` };
    if (aia === 'untrusted') return { kind: 'untrusted', why: `'${top.issuer}' (fetched from the AIA URL) does not lead to a trusted root` };
    if (aia === 'leads-to-trusted-root') return { kind: 'incomplete', missing: top.issuer, sent: sent.length, confirmed: true };
    // Without AIA: a leaf alone most likely lacks its intermediate; a chain that already has one most
    // likely ends at a root the clients do not know.
    if (sent.length > 1) return { kind: 'untrusted', why: `the chain ends below '${top.issuer}', which is not a trusted root (a private or unknown CA, or one more intermediate is missing)` };
    return { kind: 'incomplete', missing: top.issuer, sent: sent.length, confirmed: false };
  }
  return { kind: 'untrusted', why: error };
}

/** "mail.lab.example <- Issuing CA 1" for each certificate sent. */
export function describeChain(sent: readonly CertFacts[]): string {
  return `${sent.length} certificate${sent.length === 1 ? '' : 's'} sent: ${sent.map((c) => `'${c.subject}' (issuer '${c.issuer}')`).join(', ')}`;
}
