import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CertFacts, judgeChain } from './chain.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY = 86_400_000;
const cert = (subject: string, issuer: string, from = NOW - 10 * DAY, to = NOW + 90 * DAY): CertFacts => ({ subject, issuer, validFrom: from, validTo: to });
const leaf = cert('mail.example.com', 'Issuing CA 1');
const inter = cert('Issuing CA 1', 'Root CA');

describe('judgeChain: why a chain is not trusted', () => {
  const table: Array<[string, CertFacts[], string | undefined, 'leads-to-trusted-root' | 'untrusted' | 'none', Record<string, unknown>]> = [
    ['verified', [leaf, inter], undefined, 'none', { kind: 'trusted' }],
    ['verified, only the name is wrong (Node reports it in the same field)', [leaf, inter], 'ERR_TLS_CERT_ALTNAME_INVALID', 'none', { kind: 'trusted' }],
    ['leaf only, AIA leads to a trusted root', [leaf], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'leads-to-trusted-root', { kind: 'incomplete', missing: 'Issuing CA 1', sent: 1, confirmed: true }],
    ['leaf only, no AIA: most likely the intermediate', [leaf], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'none', { kind: 'incomplete', missing: 'Issuing CA 1', sent: 1, confirmed: false }],
    ['leaf only, AIA issuer is not trusted: an unknown CA', [leaf], 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted', { kind: 'untrusted' }],
    ['leaf + intermediate, root unknown', [leaf, inter], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'none', { kind: 'untrusted' }],
    ['leaf + intermediate, AIA of the intermediate leads to a trusted root: a second intermediate is missing', [leaf, inter], 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'leads-to-trusted-root', { kind: 'incomplete', missing: 'Root CA', sent: 2, confirmed: true }],
    ['self-signed leaf', [cert('mail.example.com', 'mail.example.com')], 'DEPTH_ZERO_SELF_SIGNED_CERT', 'none', { kind: 'untrusted' }],
    ['private root sent along', [leaf, inter], 'SELF_SIGNED_CERT_IN_CHAIN', 'none', { kind: 'untrusted' }],
    ['expired leaf', [cert('mail.example.com', 'Issuing CA 1', NOW - 400 * DAY, NOW - DAY), inter], 'CERT_HAS_EXPIRED', 'none', { kind: 'expired', which: 'leaf', name: 'mail.example.com', notYetValid: false }],
    ['expired intermediate', [leaf, cert('Issuing CA 1', 'Root CA', NOW - 400 * DAY, NOW - DAY)], 'CERT_HAS_EXPIRED', 'none', { kind: 'expired', which: 'intermediate', name: 'Issuing CA 1', notYetValid: false }],
    ['leaf not yet valid', [cert('mail.example.com', 'Issuing CA 1', NOW + DAY, NOW + 90 * DAY), inter], 'CERT_NOT_YET_VALID', 'none', { kind: 'expired', which: 'leaf', notYetValid: true }],
    ['expired root in the local store', [leaf, inter], 'CERT_HAS_EXPIRED', 'none', { kind: 'untrusted' }],
    ['anything else keeps OpenSSL\'s code', [leaf, inter], 'CERT_REVOKED', 'none', { kind: 'untrusted', why: 'CERT_REVOKED' }],
  ];
  for (const [name, sent, error, aia, want] of table) {
    it(name, () => {
      const v = judgeChain(sent, error, aia, NOW) as unknown as Record<string, unknown>;
      for (const [k, val] of Object.entries(want)) assert.deepEqual(v[k], val, `${k} of ${JSON.stringify(v)}`);
    });
  }
});
