// Writes the seed corpora under fuzz/corpus/<target>/ from the unit tests' vectors (request-head,
// response-head, chunked, ntlm, spnego and credentials tests, and parsers.fuzz.test.ts). Run it
// again after adding vectors: node --import tsx fuzz/make-seeds.ts. Output is deterministic.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { authenticateMessage } from '../src/doctor/ntlm-client.js';
import { oidBytes, tlv } from '../src/identity/der.js';
import { AvId, NtlmFlags, writeAvPairs } from '../src/identity/ntlm.js';
import { OID, negTokenInit, negTokenResp } from '../src/identity/spnego.js';
import { buildChallenge } from '../src/lab/ntlm-server.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus');
const l1 = (s: string) => Buffer.from(s, 'latin1');
const utf16 = (s: string) => Buffer.from(s, 'utf16le');

const get = (headers: string, version = '1.1', method = 'POST') => l1(`${method} / HTTP/${version}\r\nHost: h\r\n${headers}\r\n`);
const requestHeads: Record<string, Buffer> = {
  'rpc-in-data-1gib': l1('RPC_IN_DATA /rpc/rpcproxy.dll?EXCH01:593 HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nUser-Agent: MSRPC\r\nContent-Length: 1073741824\r\n\r\nBODY'),
  'rpc-cl-and-te': l1('RPC_IN_DATA /rpc/rpcproxy.dll?EXCH01:6001 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\nTransfer-Encoding: chunked\r\n\r\n'),
  'mapi-connect': l1('POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: h\r\nX-RequestType: Connect\r\nContent-Length: 5\r\n\r\n'),
  'http10-leading-crlf': l1('\r\nGET / HTTP/1.0\r\n\r\n'),
  'options-star': l1('OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'),
  'bare-cr': l1('GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n'),
  'bare-lf': l1('GET / HTTP/1.1\nHost: h\r\n\r\n'),
  'nul': l1('GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n'),
  'obs-fold': l1('GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  continued\r\n\r\n'),
  'space-before-colon': l1('GET / HTTP/1.1\r\nHost : h\r\n\r\n'),
  'two-hosts': l1('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'),
  'absolute-form': l1('GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n'),
  'fragment': l1('GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n'),
  'http20': l1('GET / HTTP/2.0\r\nHost: h\r\n\r\n'),
  'path-confusion': l1('GET /owa/%2e%2e/ecp/%c3%a9x\\y/./z?@q=1 HTTP/1.1\r\nHost: h\r\n\r\n'),
  'cl-list': get('Content-Length: 5, 5\r\n'),
  'cl-repeated': get('Content-Length: 5\r\nContent-Length: 5\r\n'),
  'cl-2gib': get('Content-Length: 2147483648\r\n'),
  'cl-over-2gib': get('Content-Length: 2147483649\r\n'),
  'te-chunked': get('Transfer-Encoding: chunked\r\n'),
  'te-gzip-chunked': get('Transfer-Encoding: gzip, chunked\r\n'),
  'te-twice': get('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'),
  'te-http10': get('Transfer-Encoding: chunked\r\n', '1.0'),
  'many-headers': l1(`GET / HTTP/1.1\r\nHost: h\r\n${Array.from({ length: 11 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`),
};

const responseHeads: Record<string, Buffer> = {
  'rpc-error': l1('HTTP/1.0 503 RPC Error: 6ba\r\nContent-Length: 0\r\n\r\n'),
  'continue-then-200': l1('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 \r\n\r\n'),
  'rpc-1gib': l1('HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nContent-Length: 1073741824\r\n\r\n'),
  'no-content': l1('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'),
  'close-delimited': l1('HTTP/1.1 200 OK\r\n\r\n'),
  'chunked': l1('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
  'cl-and-te': l1('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'),
  'two-digit-status': l1('HTTP/1.1 20 OK\r\n\r\n'),
  'obs-fold': l1('HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n'),
  'www-authenticate': l1('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n'),
};

const chunked: Record<string, Buffer> = {
  'mapi-extensions-trailer': l1('B\r\nPROCESSING\n\r\n8;ext=1;q="a b"\r\nPENDING\n\r\n0\r\nX-Trailer: v\r\n\r\nNEXT'),
  'quoted-extension': l1('B\r\nPROCESSING\n\r\n8;a="b"\r\nPENDING\n\r\n0\r\nX: 1\r\n\r\n'),
  'last-chunk-only': l1('0\r\n\r\n'),
  'non-hex-size': l1('Z\r\n'),
  'size-lf-only': l1('5\nhello\r\n'),
  'bare-cr-size': l1('5\rX\r\n'),
  'too-many-digits': l1('00000000000000001\r\n'),
  'data-without-crlf': l1('3\r\nabcX\r\n'),
  'bad-extension': l1('3;=x\r\nabc\r\n'),
  'obs-fold-trailer': l1('0\r\nX: 1\r\n 2\r\n\r\n'),
  'trailer-without-colon': l1('0\r\nXY\r\n\r\n'),
};

const NTLM1 = Buffer.from('TlRMTVNTUAABAAAABQKIoAAAAAAAAAAAAAAAAAAAAAA=', 'base64');
const v2Response = (avs: Array<[number, Buffer]>) =>
  Buffer.concat([Buffer.alloc(16, 0xaa), Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), Buffer.alloc(8, 1), Buffer.alloc(8, 2), Buffer.alloc(4), writeAvPairs(avs), Buffer.alloc(4)]);
const challenge = (() => {
  const { message } = buildChallenge(NtlmFlags.UNICODE, { netbiosDomain: 'LAB', netbiosComputer: 'EXCH01', dnsDomain: 'lab.example', dnsComputer: 'exch01.lab.example' }, Buffer.alloc(8, 7));
  message.fill(1, message.length - 12, message.length - 4); // the AV timestamp, so the file does not change per run
  return message;
})();
const t3 = authenticateMessage({ user: 'bob', domain: 'LAB', nt: Buffer.alloc(52) });
const ntlm: Record<string, Buffer> = {
  'negotiate': NTLM1,
  'challenge': challenge,
  'auth-v2': authenticateMessage({ user: 'User', domain: 'Domain', nt: v2Response([[AvId.NbDomainName, utf16('Domain')], [AvId.NbComputerName, utf16('Server')]]) }),
  'auth-v2-channel-bindings': authenticateMessage({ user: 'alice', domain: 'LAB', nt: v2Response([[AvId.ChannelBindings, Buffer.alloc(16, 9)], [AvId.Flags, Buffer.from([2, 0, 0, 0])]]) }),
  'auth-oem-v1': authenticateMessage({ user: 'alice', domain: 'LAB', nt: Buffer.alloc(24), unicode: false }),
  'auth-upn': authenticateMessage({ user: 'alice@lab.example', domain: '', nt: Buffer.alloc(60) }),
  'auth-anonymous': authenticateMessage({ user: '', domain: '', nt: Buffer.alloc(0), flags: NtlmFlags.UNICODE | NtlmFlags.ANONYMOUS }),
  'wrong-signature': l1('NTLMSSX\0\x01\0\0\0\0\0\0\0'),
  'truncated-type3': Buffer.concat([l1('NTLMSSP\0'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(20)]),
};

function kerberosApReq(): Buffer {
  return tlv(0x60, tlv(0x06, oidBytes(OID.kerberos)), Buffer.from([1, 0]), tlv(0x6e, tlv(0x30, tlv(0xa0, tlv(0x02, Buffer.from([5]))))));
}
const spnego: Record<string, Buffer> = {
  'raw-ntlm': NTLM1,
  'init-ntlm': negTokenInit(NTLM1),
  'init-auth': negTokenInit(t3),
  'resp-ntlm': negTokenResp(1, NTLM1),
  'resp-accept-completed': negTokenResp(0),
  'kerberos-raw': kerberosApReq(),
  'kerberos-wrapped': negTokenInit(kerberosApReq(), [OID.msKerberos, OID.kerberos, OID.negoex, OID.ntlm]),
  'foreign-mechanism': tlv(0x60, tlv(0x06, oidBytes('1.2.3.4'))),
  'long-length': tlv(0x04, Buffer.alloc(300, 1)),
};

const mode = (m: number, payload: Buffer | string) => Buffer.concat([Buffer.from([m]), typeof payload === 'string' ? l1(payload) : payload]);
const credentials: Record<string, Buffer> = {
  'raw-bearer': mode(0, 'Bearer eyJ.x.y'),
  'raw-digest': mode(0, 'Digest username="x"'),
  'raw-ntlm-not-base64': mode(0, 'NTLM !!!'),
  'raw-basic': mode(0, `Basic ${Buffer.from('LAB\\alice:pw').toString('base64')}`),
  'ntlm-negotiate': mode(1, NTLM1),
  'ntlm-auth': mode(1, t3),
  'negotiate-init-auth': mode(2, negTokenInit(t3)),
  'negotiate-kerberos': mode(2, kerberosApReq()),
  'negotiate-empty': mode(2, negTokenResp(0)),
  'basic-domain': mode(3, 'LAB\\alice:pw'),
  'basic-upn': mode(3, 'alice@lab.example:p:w'),
  'basic-utf8': mode(3, Buffer.from('jürgen:pässword', 'utf8')),
  'basic-latin1': mode(3, l1('j\xfcrgen:x')),
  'basic-control': mode(3, 'al\x01ice:pw'),
};

// PROXY protocol headers (src/listen/proxy-header.test.ts): v1 TCP4/TCP6/UNKNOWN, v2 PROXY over
// TCP4, TCP6 (with TLVs), AF_UNIX and AF_UNSPEC, LOCAL, each followed by a ClientHello's first bytes.
const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]);
const v2 = (cmd: number, fam: number, body: Buffer) => Buffer.concat([sig, Buffer.from([cmd, fam, body.length >> 8, body.length & 0xff]), body, hello]);
const tlvOf = (type: number, v: string) => Buffer.concat([Buffer.from([type, 0, v.length]), l1(v)]);
const proxyHeader: Record<string, Buffer> = {
  'v1-tcp4': l1('PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n\x16\x03\x01'),
  'v1-tcp6': l1('PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 65535\r\n'),
  'v1-unknown': l1('PROXY UNKNOWN\r\n'),
  'v2-tcp4': v2(0x21, 0x11, Buffer.from([203, 0, 113, 7, 192, 0, 2, 1, 0xc7, 0x38, 0x01, 0xbb])),
  'v2-tcp6-tlvs': v2(0x21, 0x21, Buffer.concat([Buffer.from('20010db8000000000000000000000001' + '00000000000000000000ffffc0000201' + 'c73801bb', 'hex'), tlvOf(0x05, 'id-42'), tlvOf(0x02, 'mail.lab.example')])),
  'v2-unix': v2(0x21, 0x31, Buffer.alloc(216, 0x2f)),
  'v2-unspec': v2(0x21, 0x00, Buffer.alloc(0)),
  'v2-local': v2(0x20, 0x11, Buffer.alloc(12)),
};

// ActiveSync queries (src/classify/activesync-query.test.ts): the plain form, the specification's
// base64 example as text, and base64-form bytes (odd first byte) with a policy key and parameters.
const easBytes = Buffer.concat([Buffer.from([161, 18, 9, 4, 4]), Buffer.from('00ff10ab', 'hex'), Buffer.from([4, 1, 2, 3, 4, 3]), l1('WP8'), Buffer.from([8, 8]), l1('LAB\\dave'), Buffer.from([7, 1, 1])]);
const activesyncQuery: Record<string, Buffer> = {
  plain: mode(0, 'Cmd=Sync&User=jdoe&DeviceId=ABCDEF0123&DeviceType=iPhone'),
  'plain-extra': mode(0, 'Cmd=SendMail&DeviceId=a_b-c&DeviceType=SAMSUNG.SM-G950F&SaveInSent=T&ItemId=5%3A1&User=LAB%5Cdave'),
  'base64-text': mode(0, 'jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l'),
  'base64-bytes': mode(1, easBytes),
};

const sets = { 'request-head': requestHeads, 'response-head': responseHeads, chunked, ntlm, spnego, credentials, 'proxy-header': proxyHeader, 'activesync-query': activesyncQuery };
for (const [target, seeds] of Object.entries(sets)) {
  const dir = path.join(root, target);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(seeds)) writeFileSync(path.join(dir, name), bytes);
  console.log(`${path.relative(process.cwd(), dir)}: ${Object.keys(seeds).length} seeds`);
}
