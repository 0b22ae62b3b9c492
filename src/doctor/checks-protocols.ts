import { randomBytes } from 'node:crypto';
import { type Outcome, finding, skip } from './check.js';
import { describe, login } from './login.js';
import type { ProbeContext } from './probe-context.js';

function needCreds(p: ProbeContext): Outcome | undefined {
  if (!p.reachable) return skip('TCP connection failed');
  if (!p.credentials) return skip('needs --user and --password-stdin');
  if (p.credentialsRejected) return skip('credentials were rejected earlier; not tried again');
  return undefined;
}

function rpcTarget(p: ProbeContext, port: number): string {
  return `${p.autodiscover?.rpcServer ?? p.host}:${port}`;
}

/** RTS CONN/A1 and CONN/B1 ([MS-RPCH] §2.2.4.2, §2.2.4.4) with fresh cookies. */
function connA1(vc: Buffer): Buffer {
  const b = Buffer.from('05001403100000004c00000000000000000004000600000001000000030000000000000000000000000000000000000003000000000000000000000000000000000000000000000000000400', 'hex');
  vc.copy(b, 32);
  randomBytes(16).copy(b, 52);
  return b;
}

function connB1(vc: Buffer): Buffer {
  const b = Buffer.alloc(104);
  Buffer.from('05001403100000006800000000000000000006000600000001000000', 'hex').copy(b, 0);
  b.writeUInt32LE(3, 28);
  vc.copy(b, 32);
  b.writeUInt32LE(3, 48);
  randomBytes(16).copy(b, 52);
  b.writeUInt32LE(4, 68);
  b.writeUInt32LE(1073741824, 72);
  b.writeUInt32LE(5, 76);
  b.writeUInt32LE(300000, 80);
  b.writeUInt32LE(0xc, 84);
  randomBytes(16).copy(b, 88);
  return b;
}

export async function rpcEcho(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const evidence: string[] = [];
  const findings = [];
  for (const port of [6001, 6002, 6004]) {
    const c = await p.connect();
    try {
      const r = await login(p, c, 'RPC_IN_DATA', `/rpc/rpcproxy.dll?${rpcTarget(p, port)}`, { 'Content-Length': '0', Accept: 'application/rpc', 'User-Agent': 'MSRPC' });
      evidence.push(`echo ${rpcTarget(p, port)} -> ${describe(r)}, ${r.body.length} bytes`);
      if (p.credentialsRejected) return { status: 'fail', evidence, findings: [finding('AUTH-CREDENTIALS-REJECTED', 'RPC over HTTP')] };
      if (r.head.status !== 200 || r.body.length !== 20) findings.push(finding('RPC-ECHO-FAILED', `port ${port}: ${r.head.status}`));
    } finally {
      c.close();
    }
  }
  return { status: findings.length ? 'fail' : 'pass', evidence, findings };
}

/** Opens both channels like Outlook and checks the proxy answers CONN/A1 with A3 and, after B1, C2. */
export async function rpcHandshake(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const target = `/rpc/rpcproxy.dll?${rpcTarget(p, 6001)}`;
  const inCh = await p.connect();
  const outCh = await p.connect();
  try {
    const h = { Accept: 'application/rpc', 'User-Agent': 'MSRPC', Expect: '100-continue', 'Cache-Control': 'no-cache', Pragma: 'No-cache' };
    // Authenticate each channel on an echo-sized request first, then open the real channel.
    for (const [c, m] of [[inCh, 'RPC_IN_DATA'], [outCh, 'RPC_OUT_DATA']] as const) {
      const r = await login(p, c, m, target, { ...h, 'Content-Length': '0' });
      if (r.head.status >= 300) return { status: 'fail', evidence: [`${m} auth leg -> ${describe(r)}`], findings: [finding('RPC-HANDSHAKE-FAILED', `${m}: ${r.head.status}`)] };
    }
    const auth = p.basicAuthorization ? `Authorization: ${p.basicAuthorization}\r\n` : '';
    inCh.write(`RPC_IN_DATA ${target} HTTP/1.1\r\nHost: ${inCh.host}\r\n${auth}Accept: application/rpc\r\nContent-Length: 1073741824\r\n\r\n`);
    outCh.write(`RPC_OUT_DATA ${target} HTTP/1.1\r\nHost: ${outCh.host}\r\n${auth}Accept: application/rpc\r\nContent-Length: 76\r\n\r\n`);
    const vc = randomBytes(16);
    outCh.write(connA1(vc));
    const wait = Math.min(p.opts.timeoutMs, 5000);
    const head = await outCh.readHead(wait);
    const evidence = [`RPC_OUT_DATA -> HTTP/${head.version} ${head.status} ${head.reason}`];
    if (head.status !== 200) return { status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', `OUT channel answered ${head.status}`)] };
    const a3 = await outCh.readExact(28, wait);
    evidence.push(`CONN/A3: ${a3.toString('hex')}`);
    if (a3[2] !== 0x14) return { status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', 'no CONN/A3 on the OUT channel')] };
    inCh.write(connB1(vc));
    const c2 = await outCh.readExact(44, wait);
    evidence.push(`CONN/C2: ${c2.toString('hex')}`);
    if (c2[2] !== 0x14 || c2.readUInt16LE(18) !== 3) return { status: 'fail', evidence, findings: [finding('RPC-HANDSHAKE-FAILED', 'no CONN/C2 after CONN/B1')] };
    return { status: 'pass', evidence: [...evidence, 'virtual connection established (A1 -> A3, B1 -> C2)'] };
  } catch (e) {
    return { status: 'fail', evidence: [(e as Error).message], findings: [finding('RPC-HANDSHAKE-FAILED', (e as Error).message)] };
  } finally {
    inCh.close();
    outCh.close();
  }
}

export async function mapiPing(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const c = await p.connect();
  try {
    const mailbox = /MailboxId=([^<&"]+)/.exec(p.autodiscover?.xml ?? '')?.[1] ?? `probe@${p.domain}`;
    const r = await login(p, c, 'POST', `/mapi/emsmdb/?MailboxId=${mailbox}`, {
      'Content-Type': 'application/mapi-http',
      'X-RequestType': 'PING',
      'X-RequestId': `{${randomBytes(16).toString('hex')}}:1`,
      'X-ClientInfo': `{${randomBytes(16).toString('hex')}}:1`,
      'X-ClientApplication': 'Outlook/16.0.17928.20000',
      'Content-Length': '0',
    });
    const evidence = [describe(r), `X-ResponseCode: ${r.header('x-responsecode') ?? '(none)'}`];
    if (p.credentialsRejected) return { status: 'fail', evidence, findings: [finding('AUTH-CREDENTIALS-REJECTED', 'MAPI over HTTP')] };
    if (r.head.status === 200 && r.header('x-responsecode') === '0') return { status: 'pass', evidence };
    return { status: 'warn', evidence, findings: [finding('MAPI-HTTP-DISABLED', `PING answered ${r.head.status}`)] };
  } finally {
    c.close();
  }
}

const GET_INBOX = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"><s:Header><t:RequestServerVersion Version="Exchange2016"/></s:Header><s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>`;

export async function ewsGetFolder(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const c = await p.connect();
  try {
    const r = await login(p, c, 'POST', '/EWS/Exchange.asmx', { 'Content-Type': 'text/xml; charset=utf-8' }, GET_INBOX);
    const evidence = [describe(r)];
    if (p.credentialsRejected) return { status: 'fail', evidence, findings: [finding('AUTH-CREDENTIALS-REJECTED', 'EWS')] };
    if (r.head.status === 200 && /NoError/.test(r.body.toString())) return { status: 'pass', evidence: [...evidence, 'GetFolder(inbox): NoError'] };
    return { status: 'fail', evidence, findings: [finding('EWS-FAILED', `${r.head.status}`)] };
  } finally {
    c.close();
  }
}

export async function easOptions(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const c = await p.connect();
  try {
    const r = await login(p, c, 'OPTIONS', '/Microsoft-Server-ActiveSync');
    const evidence = [describe(r), `MS-ASProtocolVersions: ${r.header('ms-asprotocolversions') ?? '(none)'}`];
    if (p.credentialsRejected) return { status: 'fail', evidence, findings: [finding('AUTH-CREDENTIALS-REJECTED', 'ActiveSync')] };
    if (r.head.status === 200 && r.header('ms-asprotocolversions')) return { status: 'pass', evidence };
    return { status: 'fail', evidence, findings: [finding('EAS-FAILED', `${r.head.status}`)] };
  } finally {
    c.close();
  }
}
