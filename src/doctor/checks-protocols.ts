import { randomBytes } from 'node:crypto';
import { type Outcome, finding } from './check.js';
import { authProblem, describe, gatewayRefusal, login, needCreds } from './login.js';
import type { ProbeContext } from './probe-context.js';
import { openVirtualConnection, rpcServer } from './rpc-channel.js';

/** Outlook Anywhere needs the RPC server name Autodiscover hands out; without it, say so instead of guessing. */
function unknownTarget(p: ProbeContext): Outcome {
  const why = p.autodiscoverFailed ?? (p.opts.protocols.includes('autodiscover') ? 'the Autodiscover answer named no RPC server (no EXPR/EXHTTP block)' : 'Autodiscover was not tested (--protocols)');
  return { status: 'warn', evidence: ['RPC target not guessed: a wrong one is refused by the RPC proxy, and that would be blamed on it'], findings: [finding('RPC-TARGET-UNKNOWN', why)] };
}

export async function rpcEcho(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const server = rpcServer(p);
  if (!server) return unknownTarget(p);
  const evidence: string[] = [];
  const failed: string[] = [];
  for (const port of [6001, 6002, 6004]) {
    const c = await p.connect();
    try {
      const r = await login(p, c, 'RPC_IN_DATA', `/rpc/rpcproxy.dll?${server}:${port}`, { 'Content-Length': '0', Accept: 'application/rpc', 'User-Agent': 'MSRPC' });
      evidence.push(`echo ${server}:${port} -> ${describe(r)}, ${r.body.length} bytes`);
      const refused = gatewayRefusal(r);
      if (refused) return { status: 'warn', evidence, findings: [finding('GATEWAY-POLICY-DENIED', `Outlook Anywhere to ${server}:${port}: ${refused}`)] };
      const bad = authProblem(p, 'RPC over HTTP', evidence);
      if (bad) return bad;
      if (r.head.status !== 200 || r.body.length !== 20) failed.push(`port ${port}: ${r.head.status}`);
    } finally {
      c.close();
    }
  }
  return failed.length ? { status: 'fail', evidence, findings: [finding('RPC-ECHO-FAILED', failed.join(', '))] } : { status: 'pass', evidence };
}

/** Opens both channels like Outlook and checks the proxy answers CONN/A1 with A3 and, after B1, C2. */
export async function rpcHandshake(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const server = rpcServer(p);
  if (!server) return { status: 'skip', evidence: ['RPC target unknown (see the echo check)'] };
  const ch = await openVirtualConnection(p, server);
  if (!ch.ok) return ch.outcome;
  ch.inCh.close();
  ch.outCh.close();
  return { status: 'pass', evidence: ch.evidence };
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
    const refused = gatewayRefusal(r);
    if (refused) return { status: 'warn', evidence, findings: [finding('GATEWAY-POLICY-DENIED', `MAPI over HTTP: ${refused}`)] };
    const bad = authProblem(p, 'MAPI over HTTP', evidence);
    if (bad) return bad;
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
    const refused = gatewayRefusal(r);
    if (refused) return { status: 'warn', evidence, findings: [finding('GATEWAY-POLICY-DENIED', `EWS: ${refused}`)] };
    const bad = authProblem(p, 'EWS', evidence);
    if (bad) return bad;
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
    const refused = gatewayRefusal(r);
    if (refused) return { status: 'warn', evidence, findings: [finding('GATEWAY-POLICY-DENIED', `ActiveSync: ${refused}`)] };
    const bad = authProblem(p, 'ActiveSync', evidence);
    if (bad) return bad;
    if (r.head.status === 200 && r.header('ms-asprotocolversions')) return { status: 'pass', evidence };
    return { status: 'fail', evidence, findings: [finding('EAS-FAILED', `${r.head.status}`)] };
  } finally {
    c.close();
  }
}
