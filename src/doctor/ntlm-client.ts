// Client side of NTLMv2 (the doctor's logins and the tests): NEGOTIATE, then AUTHENTICATE from the CHALLENGE.
import { createHmac, randomBytes } from 'node:crypto';
import { ntHash } from '../lab/ntlm-server.js';
import { NtlmFlags, parseNtlm } from '../identity/ntlm.js';

export const NEGOTIATE = Buffer.from('TlRMTVNTUAABAAAABQKIoAAAAAAAAAAAAAAAAAAAAAA=', 'base64');

export async function authenticateFor(challengeB64: string, user: string, domain: string, password: string): Promise<string> {
  const c = parseNtlm(Buffer.from(challengeB64, 'base64'));
  if (!c.ok || c.message.type !== 2) throw new Error('not a CHALLENGE');
  const key = createHmac('md5', await ntHash(password)).update(Buffer.from(user.toUpperCase() + domain, 'utf16le')).digest();
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64LE((BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n);
  const blob = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), ts, randomBytes(8), Buffer.alloc(4), c.message.targetInfo, Buffer.alloc(4)]);
  const proof = createHmac('md5', key).update(c.message.serverChallenge).update(blob).digest();
  return authenticateMessage({
    user,
    domain,
    workstation: 'TESTWS',
    nt: Buffer.concat([proof, blob]),
    lm: Buffer.alloc(24),
    flags: NtlmFlags.UNICODE | NtlmFlags.NTLM | NtlmFlags.EXTENDED_SESSIONSECURITY | NtlmFlags.TARGET_INFO,
  }).toString('base64');
}

/** Builds an AUTHENTICATE message the way a client does (tests only). */
export function authenticateMessage(opts: { user: string; domain: string; workstation?: string; nt: Buffer; lm?: Buffer; unicode?: boolean; flags?: number }): Buffer {
  const enc = (s: string) => (opts.unicode === false ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf16le'));
  const fields = [opts.lm ?? Buffer.alloc(0), opts.nt, enc(opts.domain), enc(opts.user), enc(opts.workstation ?? 'WS'), Buffer.alloc(0)];
  const head = Buffer.alloc(64);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(3, 8);
  let off = 64;
  fields.forEach((f, i) => {
    head.writeUInt16LE(f.length, 12 + i * 8);
    head.writeUInt16LE(f.length, 14 + i * 8);
    head.writeUInt32LE(off, 16 + i * 8);
    off += f.length;
  });
  head.writeUInt32LE(opts.flags ?? (opts.unicode === false ? NtlmFlags.OEM : NtlmFlags.UNICODE), 60);
  return Buffer.concat([head, ...fields]);
}

/** Runs the three-leg NTLM handshake on a RawClient and returns the final response. */
export async function ntlmLogin(
  client: { request: (m: string, p: string, h?: Record<string, string>, b?: string) => Promise<{ head: { status: number }; header(n: string): string | undefined }> },
  path: string,
  user: string,
  domain: string,
  password: string,
) {
  const r1 = await client.request('GET', path, { Authorization: `NTLM ${NEGOTIATE.toString('base64')}` });
  const challenge = /^NTLM (\S+)/.exec(r1.header('www-authenticate') ?? '')?.[1];
  if (r1.head.status !== 401 || !challenge) throw new Error(`expected a challenge, got ${r1.head.status}`);
  return client.request('GET', path, { Authorization: `NTLM ${await authenticateFor(challenge, user, domain, password)}` });
}
