import { type Outcome, finding } from './check.js';
import { covers } from './checks-tls.js';
import { describe, offersOf } from './login.js';
import type { ProbeContext } from './probe-context.js';

export async function rpcMethods(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const evidence: string[] = [];
  const findings = [];
  for (const method of ['RPC_IN_DATA', 'RPC_OUT_DATA']) {
    const c = await p.connect();
    try {
      const r = await c.request(method, '/rpc/rpcproxy.dll', { 'Content-Length': '0', Accept: 'application/rpc', 'User-Agent': 'MSRPC' });
      evidence.push(`${method} /rpc/rpcproxy.dll -> ${describe(r)}`);
      if ([405, 501, 400].includes(r.head.status)) findings.push(finding('HTTP-RPC-METHOD-BLOCKED', `${method} answered ${r.head.status}`));
    } finally {
      c.close();
    }
  }
  return { status: findings.length ? 'fail' : 'pass', evidence, findings };
}

/** A channel announces 1 GiB and sends 16 bytes: Exchange answers at once, a buffering proxy waits. */
export async function bodyStreaming(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const c = await p.connect();
  try {
    c.write(`RPC_IN_DATA /rpc/rpcproxy.dll HTTP/1.1\r\nHost: ${c.host}\r\nAccept: application/rpc\r\nUser-Agent: MSRPC\r\nContent-Length: 1073741824\r\n\r\n`);
    c.write(Buffer.alloc(16));
    const wait = Math.min(5000, p.opts.timeoutMs);
    const r = await c.read('RPC_IN_DATA', wait, true).catch(() => undefined);
    if (!r) return { status: 'fail', evidence: [`no answer within ${wait} ms to a request that announced 1 GiB and sent 16 bytes`], findings: [finding('HTTP-BODY-BUFFERED', 'the request body is held back')] };
    if (r.head.status === 413) return { status: 'fail', evidence: [describe(r)], findings: [finding('HTTP-BODY-TOO-LARGE', '413 for a 1 GiB body')] };
    return { status: 'pass', evidence: [`answered before the body arrived: ${describe(r)}`] };
  } finally {
    c.close();
  }
}

export async function headerSize(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const c = await p.connect();
  try {
    const r = await c.request('GET', '/owa/', { 'X-Doctor-Padding': 'a'.repeat(16 * 1024) });
    if ([400, 413, 431, 494].includes(r.head.status)) return { status: 'warn', evidence: [describe(r)], findings: [finding('HTTP-HEADER-LIMIT-LOW', `16 KB of headers -> ${r.head.status}`)] };
    return { status: 'pass', evidence: [`16 KB of headers -> ${describe(r)}`] };
  } finally {
    c.close();
  }
}

const ENDPOINTS: Record<string, { method: string; path: string; headers?: Record<string, string> }> = {
  autodiscover: { method: 'POST', path: '/autodiscover/autodiscover.xml', headers: { 'Content-Type': 'text/xml' } },
  rpc: { method: 'RPC_IN_DATA', path: '/rpc/rpcproxy.dll', headers: { 'Content-Length': '0' } },
  mapi: { method: 'POST', path: '/mapi/emsmdb/', headers: { 'Content-Type': 'application/mapi-http', 'X-RequestType': 'PING', 'Content-Length': '0' } },
  ews: { method: 'POST', path: '/EWS/Exchange.asmx', headers: { 'Content-Type': 'text/xml', 'Content-Length': '0' } },
  eas: { method: 'OPTIONS', path: '/Microsoft-Server-ActiveSync' },
};

/** The schemes each virtual directory offers to an anonymous request. */
export async function authSchemes(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const evidence: string[] = [];
  const findings = [];
  for (const protocol of p.opts.protocols) {
    const e = ENDPOINTS[protocol];
    if (!e) continue;
    const c = await p.connect();
    try {
      const r = await c.request(e.method, e.path, e.headers ?? {});
      const offers = offersOf(r);
      evidence.push(`${protocol}: ${e.method} ${e.path} -> ${describe(r)}`);
      if (protocol === 'mapi' && (r.head.status === 404 || r.head.status === 403)) findings.push(finding('MAPI-HTTP-DISABLED', `/mapi/emsmdb answered ${r.head.status}`));
      if (r.head.status !== 401) continue;
      if (offers.length === 0) findings.push(finding('AUTH-NONE-OFFERED', `${e.path}`));
      if (offers.includes('negotiate') && !offers.includes('ntlm')) findings.push(finding('AUTH-NTLM-ONLY-IN-NEGOTIATE', `${e.path} offers ${offers.join(', ')}`));
      if (protocol === 'eas' && !offers.includes('basic')) findings.push(finding('AUTH-BASIC-MISSING', `${e.path} offers ${offers.join(', ')}`));
    } finally {
      c.close();
    }
  }
  const status = findings.some((f) => f.id === 'AUTH-NONE-OFFERED' || f.id === 'AUTH-NTLM-ONLY-IN-NEGOTIATE') ? 'fail' : findings.length ? 'warn' : 'pass';
  return { status, evidence, findings };
}

/** Redirects on the site root and /owa: they must stay on https:// and on covered names. */
export async function redirects(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const evidence: string[] = [];
  const findings = [];
  for (const path of ['/', '/owa']) {
    const c = await p.connect();
    try {
      const r = await c.request('GET', path);
      const location = r.header('location');
      evidence.push(`GET ${path} -> ${describe(r)}${location ? `; Location: ${location}` : ''}`);
      if (!location || r.head.status < 300 || r.head.status >= 400) continue;
      if (/^http:\/\//i.test(location)) findings.push(finding('HTTP-REDIRECT-INSECURE', `${path} -> ${location}`));
      const host = /^https?:\/\/([^/:]+)/i.exec(location)?.[1]?.toLowerCase();
      if (host && p.certNames.length && !covers(p.certNames, host)) findings.push(finding('HTTP-REDIRECT-FOREIGN', `${path} -> ${location}`));
    } finally {
      c.close();
    }
  }
  return { status: findings.length ? 'warn' : 'pass', evidence, findings };
}
