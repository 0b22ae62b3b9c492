// What intermediaries do to the HTTP path itself: speak HTTP/2 only, end the connection after an
// NTLM challenge, or run on a skewed clock. None of these needs credentials.
import net from 'node:net';
import tls from 'node:tls';
import { type Outcome, finding } from './check.js';
import { describe, offersOf } from './login.js';
import { NEGOTIATE } from './ntlm-client.js';
import type { ProbeContext } from './probe-context.js';

/** The first bytes the server sends back to an HTTP/1.1 request on a connection that offered only http/1.1 in ALPN. */
function firstBytes(p: ProbeContext): Promise<{ alpn: string | false; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: p.address!, port: p.port, ...(net.isIP(p.host) ? {} : { servername: p.host }), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      s.write(`GET / HTTP/1.1\r\nHost: ${p.port === 443 ? p.host : `${p.host}:${p.port}`}\r\nConnection: close\r\n\r\n`);
    });
    let buf = Buffer.alloc(0);
    const done = () => {
      clearTimeout(t);
      resolve({ alpn: s.alpnProtocol ?? false, bytes: buf });
      s.destroy();
    };
    const t = setTimeout(done, Math.min(p.opts.timeoutMs, 3000));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 16) done();
    });
    s.once('end', done);
    s.once('error', (e) => (buf.length ? done() : reject(e)));
  });
}

/** An HTTP/2 frame header: 24-bit length, type SETTINGS (4) or GOAWAY (7), stream 0. */
export function looksLikeH2(b: Buffer): boolean {
  return b.length >= 9 && (b[3] === 0x04 || b[3] === 0x07) && b.readUInt32BE(5) === 0 && !b.subarray(0, 5).toString('latin1').startsWith('HTTP/');
}

/** Outlook, ActiveSync devices and NTLM need HTTP/1.1 end to end; a front end that forces HTTP/2 shuts them all out. */
export async function http11(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const preferred = await p.handshake(undefined, ['h2', 'http/1.1']).then((x) => x.alpn, () => false as const);
  const r = await firstBytes(p);
  const evidence = [`ALPN offered h2, http/1.1 -> ${preferred || '(none)'}; offered http/1.1 only -> ${r.alpn || '(none)'}`];
  const start = r.bytes.subarray(0, 16).toString('latin1');
  if (start.startsWith('HTTP/1.')) return { status: 'pass', evidence: [...evidence, `GET / -> ${start.split('\r\n')[0]}`] };
  // HTTP/2 frames back, or h2 chosen when offered and no HTTP/1.1 answer when it is not.
  if (r.alpn === 'h2' || looksLikeH2(r.bytes) || (preferred === 'h2' && r.bytes.length === 0)) {
    p.blockedBy = 'the front end speaks only HTTP/2 (see HTTP)';
    const got = r.bytes.length ? `HTTP/2 frames (${r.bytes.subarray(0, 9).toString('hex')})` : 'no answer';
    return { status: 'fail', evidence: [...evidence, `GET / over HTTP/1.1 -> ${got}`], findings: [finding('HTTP-H2-ONLY', `ALPN h2 chosen when offered; an HTTP/1.1 request got ${got}`)] };
  }
  return { status: 'warn', evidence: [...evidence, `GET / -> ${r.bytes.length ? JSON.stringify(start) : 'no answer'}`] };
}

/** Sends an NTLM NEGOTIATE without credentials: the challenge must come back on a connection that stays open. */
export async function ntlmConnection(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  const c = await p.connect();
  try {
    const path = '/autodiscover/autodiscover.xml';
    const r = await c.request('POST', path, { 'Content-Type': 'text/xml', Authorization: `NTLM ${NEGOTIATE.toString('base64')}`, 'Content-Length': '0' });
    const evidence = [`POST ${path} with an NTLM NEGOTIATE -> ${describe(r)}${r.header('connection') ? `; Connection: ${r.header('connection')}` : ''}`];
    if (r.head.status !== 401 || !/^NTLM \S/.test(r.header('www-authenticate') ?? '')) {
      return { status: 'info', evidence: [...evidence, offersOf(r).includes('ntlm') ? 'no NTLM challenge came back' : 'NTLM is not offered here'] };
    }
    let closed = /\bclose\b/i.test(r.header('connection') ?? '') ? 'Connection: close' : undefined;
    if (!closed) {
      const again = await c.request('POST', path, { 'Content-Type': 'text/xml', 'Content-Length': '0' }).catch((e: Error) => e);
      if (again instanceof Error) closed = `the next request on the connection failed (${again.message})`;
      else evidence.push(`a second request on the same connection -> ${describe(again)}`);
    }
    if (!closed) return { status: 'pass', evidence: [...evidence, 'the challenge came back on a connection that stays open'] };
    p.ntlmBroken = 'AUTH-NTLM-CONNECTION-CLOSED';
    return { status: 'fail', evidence, findings: [finding('AUTH-NTLM-CONNECTION-CLOSED', `the NTLM challenge came with ${closed}`)] };
  } finally {
    c.close();
  }
}

/** Kerberos tolerates 5 minutes of clock difference; the server's Date header shows its clock. */
export async function serverClock(p: ProbeContext): Promise<Outcome> {
  const b = p.blocked();
  if (b) return b;
  let seen = p.serverDate;
  if (!seen) {
    const c = await p.connect();
    try {
      await c.request('GET', '/owa/');
    } finally {
      c.close();
    }
    seen = p.serverDate;
  }
  if (!seen) return { status: 'info', evidence: ['no Date header in any answer'] };
  const skew = Math.round((Date.parse(seen.date) - seen.at) / 1000);
  if (Number.isNaN(skew)) return { status: 'info', evidence: [`Date: ${seen.date} (not a date)`] };
  const evidence = [`Date: ${seen.date}; this machine: ${new Date(seen.at).toUTCString()} (difference ${skew} s)`];
  if (Math.abs(skew) <= 300) return { status: 'pass', evidence };
  return { status: 'warn', evidence, findings: [finding('TIME-SKEW', `the server's clock is ${Math.abs(skew)} s ${skew < 0 ? 'behind' : 'ahead of'} this machine's`)] };
}
