import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildChallenge, ntHash, verifyNtlmV2 } from '../lab/ntlm-server.js';
import { authenticateMessage } from '../doctor/ntlm-client.js';
import { AvId, NtlmFlags, parseNtlm, writeAvPairs } from './ntlm.js';

const utf16 = (s: string) => Buffer.from(s, 'utf16le');

describe('NTLM', () => {
  it('computes the MS-NLMP §4.2.4 NT hash and NTLMv2 proof', async () => {
    assert.equal((await ntHash('Password')).toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852');
    assert.equal((await ntHash('')).toString('hex'), '31d6cfe0d16ae931b73c59d7e0c089c0');
    const serverChallenge = Buffer.from('0123456789abcdef', 'hex');
    const blob = Buffer.concat([
      Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.alloc(8),
      Buffer.from('aaaaaaaaaaaaaaaa', 'hex'),
      Buffer.alloc(4),
      writeAvPairs([
        [AvId.NbDomainName, utf16('Domain')],
        [AvId.NbComputerName, utf16('Server')],
      ]),
      Buffer.alloc(4),
    ]);
    const key = createHmac('md5', await ntHash('Password')).update(utf16('USERDomain')).digest();
    assert.equal(key.toString('hex'), '0c868a403bfd7a93a3001ef22ef02e3f');
    const proof = createHmac('md5', key).update(serverChallenge).update(blob).digest();
    assert.equal(proof.toString('hex'), '68cd0ab851e51c96aabc927bebef6a1c');
    const msg = parseNtlm(authenticateMessage({ user: 'User', domain: 'Domain', nt: Buffer.concat([proof, blob]) }));
    assert.ok(msg.ok && msg.message.type === 3);
    if (msg.ok && msg.message.type === 3) {
      assert.equal(msg.message.user, 'User');
      assert.equal(msg.message.domain, 'Domain');
      assert.equal(msg.message.ntlmVersion, 'v2');
      assert.equal(msg.message.channelBindings, false);
      assert.equal(await verifyNtlmV2(msg.message, serverChallenge, 'Password'), true);
      assert.equal(await verifyNtlmV2(msg.message, serverChallenge, 'password'), false);
    }
  });

  it('reads OEM names, UPN with an empty domain, anonymous and NTLMv1', () => {
    const oem = parseNtlm(authenticateMessage({ user: 'alice', domain: 'LAB', nt: Buffer.alloc(24), unicode: false }));
    assert.ok(oem.ok && oem.message.type === 3 && oem.message.user === 'alice' && oem.message.ntlmVersion === 'v1');
    const upn = parseNtlm(authenticateMessage({ user: 'alice@lab.example', domain: '', nt: Buffer.alloc(60) }));
    assert.ok(upn.ok && upn.message.type === 3 && upn.message.domain === '' && upn.message.user === 'alice@lab.example');
    const anon = parseNtlm(authenticateMessage({ user: '', domain: '', nt: Buffer.alloc(0) }));
    assert.ok(anon.ok && anon.message.type === 3 && anon.message.anonymous);
  });

  it('round-trips a CHALLENGE it builds', () => {
    const { message, serverChallenge } = buildChallenge(NtlmFlags.UNICODE, { netbiosDomain: 'LAB', netbiosComputer: 'EXCH01', dnsDomain: 'lab.example', dnsComputer: 'exch01.lab.example' });
    const r = parseNtlm(message);
    assert.ok(r.ok && r.message.type === 2 && r.message.serverChallenge.equals(serverChallenge));
  });

  const malformed: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['wrong signature', Buffer.from('NTLMSSX\0\x01\0\0\0\0\0\0\0', 'latin1')],
    ['unknown type', Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([9, 0, 0, 0])])],
    ['truncated type 3', Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(20)])],
  ];
  for (const [name, buf] of malformed) it(`rejects ${name}`, () => assert.equal(parseNtlm(buf).ok, false));

  it('rejects fields pointing outside the message and odd UTF-16 lengths', () => {
    const m = authenticateMessage({ user: 'alice', domain: 'LAB', nt: Buffer.alloc(60) });
    const out = Buffer.from(m);
    out.writeUInt32LE(0xfffffff0, 36 + 4);
    assert.equal(parseNtlm(out).ok, false);
    const odd = Buffer.from(m);
    odd.writeUInt16LE(3, 36);
    assert.equal(parseNtlm(odd).ok, false);
  });

  it('never throws on random bytes (fuzz, 20000 inputs)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = authenticateMessage({ user: 'alice', domain: 'LAB', nt: Buffer.alloc(80, 1) });
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.from(base.subarray(0, Math.floor(rnd() * base.length)));
      for (let k = 0; k < 4; k++) if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      assert.doesNotThrow(() => parseNtlm(b));
    }
  });
});
