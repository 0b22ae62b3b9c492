// NTLM messages (ntlm.ts): NEGOTIATE, CHALLENGE, AUTHENTICATE and AV_PAIR lists. Oracles: result
// shape; returned buffers are views inside the message; an AUTHENTICATE rebuilt from what was
// parsed (names, flags, NT response) parses to the same names and conclusions.
import { NtlmFlags, parseNtlm, readAvPairs } from '../../src/identity/ntlm.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';

const within = (part: Buffer, whole: Buffer) =>
  part.length === 0 || (part.buffer === whole.buffer && part.byteOffset >= whole.byteOffset && part.byteOffset + part.length <= whole.byteOffset + whole.length);

/** A minimal AUTHENTICATE with the given fields, laid out in the usual order after the header. */
function rebuild(domain: Buffer, user: Buffer, workstation: Buffer, nt: Buffer, flags: number): Buffer {
  const head = Buffer.alloc(64);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(3, 8);
  let off = 64;
  [Buffer.alloc(0), nt, domain, user, workstation, Buffer.alloc(0)].forEach((f, i) => {
    head.writeUInt16LE(f.length, 12 + i * 8);
    head.writeUInt16LE(f.length, 14 + i * 8);
    head.writeUInt32LE(off, 16 + i * 8);
    off += f.length;
  });
  head.writeUInt32LE(flags >>> 0, 60);
  return Buffer.concat([head, nt, domain, user, workstation]);
}

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return [...b]; };

const target: FuzzTarget = {
  name: 'ntlm',
  sources: [sourceUrl('../../src/identity/ntlm.ts', import.meta.url)],
  maxLen: 2048,
  dictionary: [
    'NTLMSSP\0', [1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0], u32(NtlmFlags.UNICODE), u32(NtlmFlags.OEM), u32(NtlmFlags.ANONYMOUS),
    [0x18, 0, 0x18, 0], [0x40, 0, 0, 0], [0x48, 0, 0, 0], [0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [1, 1, 0, 0], [0, 0, 0, 0],
    [10, 0, 16, 0], [2, 0, 6, 0], [7, 0, 8, 0], 'L\0A\0B\0',
  ],
  run(input) {
    const avs = readAvPairs(input);
    if (typeof avs !== 'string') for (const v of avs.values()) invariant(within(v, input), 'AV_PAIR value outside the list');
    const r = parseNtlm(input);
    if (!r.ok) {
      invariant(typeof r.error === 'string' && r.error.length > 0, 'error without a message');
      return;
    }
    const m = r.message;
    invariant(input.subarray(0, 8).toString('latin1') === 'NTLMSSP\0', 'accepted without the signature');
    invariant(m.type === input.readUInt32LE(8), 'type is not the one in the message');
    if (m.type === 1) {
      invariant(m.flags === input.readUInt32LE(12), 'NEGOTIATE flags misread');
      return;
    }
    if (m.type === 2) {
      invariant(m.serverChallenge.length === 8 && within(m.serverChallenge, input), 'server challenge is not 8 bytes of the message');
      invariant(within(m.targetInfo, input), 'TargetInfo outside the message');
      readAvPairs(m.targetInfo);
      return;
    }
    const unicode = (m.flags & NtlmFlags.UNICODE) !== 0;
    invariant(within(m.ntResponse, input), 'NT response outside the message');
    const expectVersion = m.ntResponse.length === 0 ? 'none' : m.ntResponse.length === 24 ? 'v1' : 'v2';
    invariant(m.ntlmVersion === expectVersion, 'NTLM version does not follow the NT response length');
    const enc = (s: string) => Buffer.from(s, unicode ? 'utf16le' : 'latin1');
    const again = parseNtlm(rebuild(enc(m.domain), enc(m.user), enc(m.workstation), m.ntResponse, m.flags));
    invariant(again.ok && again.message.type === 3, 'rebuilt AUTHENTICATE refused', () => !again.ok && again.error);
    const { domain, user, workstation, anonymous, ntlmVersion, channelBindings, flags } = again.message;
    sameValue(
      { domain, user, workstation, anonymous, ntlmVersion, channelBindings, flags },
      { domain: m.domain, user: m.user, workstation: m.workstation, anonymous: m.anonymous, ntlmVersion: m.ntlmVersion, channelBindings: m.channelBindings, flags: m.flags },
      'rebuilt AUTHENTICATE parses differently',
    );
  },
};

export default target;
