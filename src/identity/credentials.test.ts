import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticateMessage } from '../doctor/ntlm-client.js';
import { parseBasic } from './basic.js';
import { parseAuthorization } from './credentials.js';
import { negTokenInit } from './spnego.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('parseBasic', () => {
  it('reads the three logon forms', () => {
    assert.deepEqual(parseBasic(b64('LAB\\alice:pw')), { ok: true, claim: { domain: 'LAB', user: 'alice' }, password: 'pw' });
    assert.deepEqual(parseBasic(b64('alice@lab.example:p:w')), { ok: true, claim: { domain: '', user: 'alice@lab.example' }, password: 'p:w' });
    assert.deepEqual(parseBasic(b64('alice:')), { ok: true, claim: { domain: '', user: 'alice' }, password: '' });
  });

  it('decodes UTF-8, and Latin-1 when the bytes are not UTF-8', () => {
    assert.equal(parseBasic(b64(Buffer.from('jürgen:pässword', 'utf8'))).ok && (parseBasic(b64(Buffer.from('jürgen:x', 'utf8'))) as { claim: { user: string } }).claim.user, 'jürgen');
    const latin = parseBasic(b64(Buffer.from('j\xfcrgen:x', 'latin1')));
    assert.ok(latin.ok && latin.claim.user === 'jürgen');
  });

  for (const [name, token] of [
    ['not base64', 'a b'],
    ['no colon', b64('alice')],
    ['empty user', b64(':pw')],
    ['empty domain', b64('\\alice:pw')],
    ['control char in user', b64('al\x01ice:pw')],
    ['two backslashes', b64('A\\B\\c:pw')],
  ] as const) {
    it(`rejects ${name}`, () => assert.equal(parseBasic(token).ok, false));
  }
});

describe('parseAuthorization', () => {
  it('classifies every scheme', () => {
    assert.equal(parseAuthorization(undefined).kind, 'none');
    assert.equal(parseAuthorization('Bearer ').kind, 'none');
    assert.equal(parseAuthorization('Bearer eyJ.x.y').kind, 'bearer');
    assert.equal(parseAuthorization('Digest username="x"').kind, 'other');
    assert.equal(parseAuthorization('NTLM TlRMTVNTUAABAAAABQKIoAAAAAAAAAAAAAAAAAAAAAA=').kind, 'ntlm-start');
    const t3 = authenticateMessage({ user: 'bob', domain: 'LAB', nt: Buffer.alloc(52) }); // NTLMv2 shape: proof, fixed blob, MsvAvEOL
    const a = parseAuthorization(`NTLM ${t3.toString('base64')}`);
    assert.ok(a.kind === 'ntlm-auth' && a.message.user === 'bob');
    const n = parseAuthorization(`Negotiate ${negTokenInit(t3).toString('base64')}`);
    assert.ok(n.kind === 'ntlm-auth' && n.scheme === 'Negotiate' && n.message.domain === 'LAB');
    assert.equal(parseAuthorization('NTLM !!!').kind, 'malformed');
    assert.equal(parseAuthorization(`NTLM ${b64('NTLMSSP\0\x02\0\0\0')}`).kind, 'malformed');
    assert.equal(parseAuthorization(`Basic ${'A'.repeat(60000)}`).kind, 'malformed');
  });

  // Found by npm run fuzz (fuzz/targets/credentials.ts): String.prototype.trim() removed more than
  // the SP/HTAB that may surround the token, so a token with CR or NBSP (0xA0) around it passed.
  const t1 = 'TlRMTVNTUAABAAAABQKIoAAAAAAAAAAAAAAAAAAAAAA=';
  for (const [name, header, kind] of [
    ['fuzz input: trailing CR after a Basic token', 'Basic TEFCXFGsaWNlOnB214724182\r', 'malformed'],
    ['NBSP before an NTLM token', `NTLM \xa0${t1}`, 'malformed'],
    ['NBSP after an NTLM token', `NTLM ${t1}\xa0`, 'malformed'],
    ['NBSP before a Basic token', `Basic \xa0${b64('LAB\\alice:pw')}`, 'malformed'],
    ['extra SP and HTAB around an NTLM token', `NTLM  \t${t1}\t `, 'ntlm-start'],
    ['plain NTLM token', `NTLM ${t1}`, 'ntlm-start'],
  ] as const) {
    it(`token boundaries: ${name}`, () => assert.equal(parseAuthorization(header).kind, kind));
  }
});
