// Opening an Outlook Anywhere virtual connection the way Outlook does: an OUT and an IN channel,
// each authenticated on its own connection, then CONN/A1 -> A3 and CONN/B1 -> C2 ([MS-RPCH] §3.2.2.4.1.2).
// Shared by the handshake check and the idle-channel check, which keeps the channels open.
import { randomBytes } from 'node:crypto';
import { type Outcome, finding } from './check.js';
import type { RawClient } from './http-probe.js';
import { authProblem, describe, gatewayRefusal, login } from './login.js';
import type { ProbeContext } from './probe-context.js';

/** RTS CONN/A1 and CONN/B1 ([MS-RPCH] §2.2.4.2, §2.2.4.4) with fresh cookies. */
export function connA1(vc: Buffer): Buffer {
  const b = Buffer.from('05001403100000004c00000000000000000004000600000001000000030000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000400', 'hex');
  vc.copy(b, 32);
  randomBytes(16).copy(b, 52);
  return b;
}

/** The keep-alive interval the doctor announces in CONN/B1: Outlook's default, 5 minutes. */
export const CLIENT_KEEPALIVE_MS = 300_000;

export function connB1(vc: Buffer): Buffer {
  const b = Buffer.alloc(104);
  Buffer.from('05001403100000006800000000000000000006000600000001000000', 'hex').copy(b, 0);
  b.writeUInt32LE(3, 28);
  vc.copy(b, 32);
  b.writeUInt32LE(3, 48);
  randomBytes(16).copy(b, 52);
  b.writeUInt32LE(4, 68);
  b.writeUInt32LE(1073741824, 72);
  b.writeUInt32LE(5, 76);
  b.writeUInt32LE(CLIENT_KEEPALIVE_MS, 80);
  b.writeUInt32LE(0xc, 84);
  randomBytes(16).copy(b, 88);
  return b;
}

/** The RTS Ping PDU a client sends on the IN channel when ConnectionTimeout passes without traffic ([MS-RPCH] §2.2.4.49, §3.2.2.6.1). */
export const RTS_PING = Buffer.from('05001403100000001400000000000000' + '01000000', 'hex');

export type Channels =
  | { readonly ok: true; readonly inCh: RawClient; readonly outCh: RawClient; readonly evidence: string[]; /** ConnectionTimeout from CONN/A3. */ readonly connectionTimeoutMs: number }
  | { readonly ok: false; readonly outcome: Outcome };

/** The RPC server Outlook would name (Autodiscover's, or --rpc-server); undefined when unknown. */
export function rpcServer(p: ProbeContext): string | undefined {
  return p.opts.rpcServer ?? p.autodiscover?.rpcServer;
}

/**
 * Authenticates and opens the OUT channel, then the IN channel (one after the other, so an
 * intermediary that pools upstream connections still gives each its own), and completes the RTS
 * handshake. The caller closes the channels.
 */
export async function openVirtualConnection(p: ProbeContext, server: string): Promise<Channels> {
  const target = `/rpc/rpcproxy.dll?${server}:6001`;
  const h = { Accept: 'application/rpc', 'User-Agent': 'MSRPC', 'Cache-Control': 'no-cache', Pragma: 'No-cache' };
  const wait = Math.min(p.opts.timeoutMs, 5000);
  const opened: RawClient[] = [];
  const fail = (outcome: Outcome): Channels => {
    for (const c of opened) c.close();
    return { ok: false, outcome };
  };
  const evidence: string[] = [];
  const vc = randomBytes(16);
  let connectionTimeoutMs = 0;
  try {
    for (const [m, length] of [['RPC_OUT_DATA', 76], ['RPC_IN_DATA', 1073741824]] as const) {
      const c = await p.connect();
      opened.push(c);
      const r = await login(p, c, m, target, { ...h, 'Content-Length': '0' });
      const refused = gatewayRefusal(r);
      if (refused) return fail({ status: 'warn', evidence: [`${m} -> ${describe(r)}`], findings: [finding('GATEWAY-POLICY-DENIED', `Outlook Anywhere (${m}): ${refused}`)] });
      const bad = authProblem(p, 'RPC over HTTP', [`${m} auth leg -> ${describe(r)}`]);
      if (bad) return fail(bad);
      if (r.head.status >= 300) return fail({ status: 'fail', evidence: [`${m} auth leg -> ${describe(r)}`], findings: [finding('RPC-HANDSHAKE-FAILED', `${m}: ${r.head.status}`)] });
      // Basic authenticates each request, NTLM the connection: only Basic is sent again.
      const auth = p.basicAuthorization ? `Authorization: ${p.basicAuthorization}\r\n` : '';
      c.write(`${m} ${target} HTTP/1.1\r\nHost: ${c.host}\r\n${auth}Accept: application/rpc\r\nUser-Agent: MSRPC\r\nContent-Length: ${length}\r\n\r\n`);
      if (m === 'RPC_OUT_DATA') {
        c.write(connA1(vc));
        const head = await c.readHead(wait);
        evidence.push(`RPC_OUT_DATA -> HTTP/${head.version} ${head.status} ${head.reason}`);
        if (head.status === 401) return fail({ status: 'fail', evidence, findings: [finding('AUTH-NTLM-AFFINITY-LOST', 'the OUT channel\'s connection was authenticated, yet the channel request on it got 401: the intermediary sent it on another upstream connection')] });
        if (head.status !== 200) return fail({ status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', `OUT channel answered ${head.status}`)] });
        const a3 = await c.readExact(28, wait);
        evidence.push(`CONN/A3: ${a3.toString('hex')}`);
        if (a3[2] !== 0x14) return fail({ status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', 'no CONN/A3 on the OUT channel')] });
        connectionTimeoutMs = a3.readUInt32LE(24);
      } else {
        c.write(connB1(vc));
      }
    }
    const [outCh, inCh] = opened as [RawClient, RawClient];
    const c2 = await outCh.readExact(44, wait).catch(async (e: Error) => {
      // The IN channel may have been answered (a 401 or an error page) instead of being forwarded.
      const r = await inCh.read('RPC_IN_DATA', 200).catch(() => undefined);
      throw new Error(r ? `no CONN/C2; the IN channel got ${describe(r)}` : e.message);
    });
    evidence.push(`CONN/C2: ${c2.toString('hex')}`);
    if (c2[2] !== 0x14 || c2.readUInt16LE(18) !== 3) return fail({ status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', 'no CONN/C2 after CONN/B1')] });
    return { ok: true, inCh, outCh, evidence: [...evidence, 'virtual connection established (A1 -> A3, B1 -> C2)'], connectionTimeoutMs };
  } catch (e) {
    const msg = (e as Error).message;
    if (/got HTTP\/1\.\d 401/.test(msg)) return fail({ status: 'fail', evidence: [...evidence, msg], findings: [finding('AUTH-NTLM-AFFINITY-LOST', 'the IN channel\'s connection was authenticated, yet the channel request on it got 401: the intermediary sent it on another upstream connection')] });
    return fail({ status: 'fail', evidence: [...evidence, msg], findings: [finding('RPC-HANDSHAKE-FAILED', msg)] });
  }
}
