// Authorization header values (credentials.ts over basic.ts, ntlm.ts, spnego.ts). The first byte
// picks how the rest becomes a header: taken as is (latin1), or base64 behind "NTLM ",
// "Negotiate " or "Basic ", so mutations reach the decoders instead of dying in base64.
// Oracles: the credential kind matches what the layer below says about the same bytes; a Basic
// claim put back together is exactly the decoded user-pass text; an accepted token is base64.
import { parseAuthorization } from '../../src/identity/credentials.js';
import { parseNtlm } from '../../src/identity/ntlm.js';
import { parseNegotiate } from '../../src/identity/spnego.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';

const SCHEMES = ['', 'NTLM ', 'Negotiate ', 'Basic '] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodedText(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    return raw.toString('latin1');
  }
}

const target: FuzzTarget = {
  name: 'credentials',
  sources: ['credentials.ts', 'basic.ts', 'ntlm.ts', 'spnego.ts', 'der.ts'].map((f) => sourceUrl(`../../src/identity/${f}`, import.meta.url)),
  maxLen: 2048,
  dictionary: [
    'NTLM ', 'Negotiate ', 'Basic ', 'Bearer ', 'Digest ', '=', '==', '+', '/', ' ', '\t', ':', '\\', '@', 'LAB\\alice:pw', 'NTLMSSP\0',
    [0xc3, 0xa9], [0xef, 0xbb, 0xbf], [0xa0], [0xff], [0x00],
  ],
  run(input) {
    if (input.length === 0) {
      sameValue(parseAuthorization(undefined), { kind: 'none' }, 'no header is not "none"');
      return;
    }
    const scheme = SCHEMES[input[0]! & 3]!;
    const payload = input.subarray(1);
    const header = scheme === '' ? payload.toString('latin1') : scheme + payload.toString('base64');
    const c = parseAuthorization(header);
    if (scheme === '') {
      // RFC 7235: the credentials are a token68 after the scheme; only SP/HTAB may surround it.
      const token = header.slice(header.indexOf(' ') + 1);
      if (['ntlm-start', 'ntlm-auth', 'negotiate-empty', 'kerberos'].includes(c.kind)) {
        invariant(/^[ \t]*[A-Za-z0-9+/]+={0,2}[ \t]*$/.test(token), 'NTLM/Negotiate accepted a token that is not base64', () => token);
      }
      if (c.kind === 'basic') invariant(/^[ \t]*[A-Za-z0-9+/]*={0,2}[ \t]*$/.test(token), 'Basic accepted a token that is not base64', () => token);
      return;
    }
    if (payload.length === 0) return;
    if (scheme === 'Basic ') {
      if (c.kind !== 'basic') {
        invariant(c.kind === 'malformed', 'Basic header became neither basic nor malformed', () => c.kind);
        return;
      }
      const text = decodedText(payload);
      const logon = c.claim.domain ? `${c.claim.domain}\\${c.claim.user}` : c.claim.user;
      sameValue(`${logon}:${c.password}`, text, 'Basic claim does not put back together');
      invariant(c.claim.user.length > 0 && !c.claim.user.includes('\\'), 'Basic user empty or with a backslash');
      return;
    }
    let ntlm = payload;
    if (scheme === 'Negotiate ') {
      const neg = parseNegotiate(payload);
      if (!neg.ok) return sameValue(c.kind, 'malformed', 'refused Negotiate token not malformed');
      if (neg.token.kind === 'kerberos') return sameValue(c.kind, 'kerberos', 'Kerberos token misclassified');
      if (neg.token.kind === 'empty') return sameValue(c.kind, 'negotiate-empty', 'empty SPNEGO misclassified');
      ntlm = neg.token.ntlm;
    }
    const n = parseNtlm(ntlm);
    const expected = !n.ok || n.message.type === 2 ? 'malformed' : n.message.type === 1 ? 'ntlm-start' : 'ntlm-auth';
    sameValue(c.kind, expected, 'credential kind disagrees with the NTLM parser');
    if (c.kind === 'ntlm-auth' && n.ok) sameValue(c.message, n.message, 'NTLM message differs through the header');
  },
};

export default target;
