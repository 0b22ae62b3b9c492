// The lab's NTLM acceptor: issues CHALLENGE messages and verifies NTLMv2 responses against the
// directory's passwords ([MS-NLMP] §3.3.2). Node's OpenSSL 3 has no MD4, hence hash-wasm.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { md4 } from 'hash-wasm';
import { AvId, type NtlmAuthenticate, NtlmFlags, writeAvPairs } from '../identity/ntlm.js';

export interface ChallengeTarget {
  readonly netbiosDomain: string;
  readonly netbiosComputer: string;
  readonly dnsDomain: string;
  readonly dnsComputer: string;
}

function utf16(s: string): Buffer {
  return Buffer.from(s, 'utf16le');
}

function filetimeNow(): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  return b;
}

/** Builds a CHALLENGE (type 2) answering the client's NEGOTIATE flags. */
export function buildChallenge(clientFlags: number, t: ChallengeTarget, serverChallenge = randomBytes(8)): { message: Buffer; serverChallenge: Buffer } {
  const unicode = (clientFlags & NtlmFlags.UNICODE) !== 0;
  const flags =
    (unicode ? NtlmFlags.UNICODE : NtlmFlags.OEM) |
    NtlmFlags.REQUEST_TARGET |
    NtlmFlags.NTLM |
    NtlmFlags.ALWAYS_SIGN |
    NtlmFlags.TARGET_TYPE_DOMAIN |
    NtlmFlags.EXTENDED_SESSIONSECURITY |
    NtlmFlags.TARGET_INFO |
    NtlmFlags.VERSION |
    (clientFlags & (NtlmFlags.N128 | NtlmFlags.N56 | NtlmFlags.KEY_EXCH | NtlmFlags.SIGN | NtlmFlags.SEAL));
  const targetName = unicode ? utf16(t.netbiosDomain) : Buffer.from(t.netbiosDomain, 'latin1');
  const targetInfo = writeAvPairs([
    [AvId.NbDomainName, utf16(t.netbiosDomain)],
    [AvId.NbComputerName, utf16(t.netbiosComputer)],
    [AvId.DnsDomainName, utf16(t.dnsDomain)],
    [AvId.DnsComputerName, utf16(t.dnsComputer)],
    [AvId.Timestamp, filetimeNow()],
  ]);
  const head = Buffer.alloc(56);
  Buffer.from('NTLMSSP\0', 'latin1').copy(head, 0);
  head.writeUInt32LE(2, 8);
  head.writeUInt16LE(targetName.length, 12);
  head.writeUInt16LE(targetName.length, 14);
  head.writeUInt32LE(56, 16);
  head.writeUInt32LE(flags >>> 0, 20);
  serverChallenge.copy(head, 24);
  head.writeUInt16LE(targetInfo.length, 40);
  head.writeUInt16LE(targetInfo.length, 42);
  head.writeUInt32LE(56 + targetName.length, 44);
  Buffer.from([10, 0, 0x63, 0x45, 0, 0, 0, 15]).copy(head, 48); // version 10.0.17763, NTLM rev 15
  return { message: Buffer.concat([head, targetName, targetInfo]), serverChallenge };
}

export async function ntHash(password: string): Promise<Buffer> {
  return Buffer.from(await md4(utf16(password)), 'hex');
}

/**
 * Verifies an NTLMv2 AUTHENTICATE against a password. Both the domain as sent and the empty
 * domain are tried, as [MS-NLMP] §3.3.2 allows. NTLMv1 is refused (Exchange with Extended
 * Protection refuses it too).
 */
export async function verifyNtlmV2(auth: NtlmAuthenticate, serverChallenge: Buffer, password: string): Promise<boolean> {
  if (auth.ntlmVersion !== 'v2') return false;
  const nt = await ntHash(password);
  const proof = auth.ntResponse.subarray(0, 16);
  const blob = auth.ntResponse.subarray(16);
  for (const domain of new Set([auth.domain, ''])) {
    const key = createHmac('md5', nt).update(utf16(auth.user.toUpperCase() + domain)).digest();
    const expected = createHmac('md5', key).update(serverChallenge).update(blob).digest();
    if (timingSafeEqual(expected, proof)) return true;
  }
  return false;
}
