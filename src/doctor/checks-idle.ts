// Long-lived channels held idle, the way Outlook leaves them: an Outlook Anywhere virtual connection
// (RPC_IN_DATA + RPC_OUT_DATA) and a MAPI/HTTP NotificationWait. A reverse proxy or firewall with a
// 20-60 s read or idle time-out cuts them, and Outlook then reconnects every minute while every
// short check passes. The quick mode holds them for 20 s (and a NotificationWait at least one
// PENDING period); --long holds them up to the protocols' keep-alive intervals (5 minutes).
import { randomBytes } from 'node:crypto';
import { type Outcome, finding, skip } from './check.js';
import type { RawClient } from './http-probe.js';
import { authProblem, describe, gatewayRefusal, login, needCreds } from './login.js';
import type { ProbeContext } from './probe-context.js';
import { CLIENT_KEEPALIVE_MS, RTS_PING, openVirtualConnection, rpcServer } from './rpc-channel.js';

export const QUICK_HOLD_MS = 20_000;
/** MS-OXCMAPIHTTP: a NotificationWait without events completes after at most 5 minutes. */
const NOTIFICATION_WAIT_MAX_MS = 300_000;

interface Watched {
  readonly name: string;
  readonly c: RawClient;
  /** Bytes seen during the hold (an error page tells which intermediary cut it). */
  text: string;
  lastData: number;
  closedAt: number | undefined;
  done: boolean;
  /** When this channel's hold ends (ms since epoch). */
  readonly until: number;
  readonly doneWhen?: (text: string) => boolean;
}

function watch(name: string, c: RawClient, until: number, doneWhen?: (text: string) => boolean): Watched {
  const w: Watched = { name, c, text: '', lastData: Date.now(), closedAt: c.closed ? Date.now() : undefined, done: false, until, ...(doneWhen ? { doneWhen } : {}) };
  c.socket.on('data', (d: Buffer) => {
    w.lastData = Date.now();
    if (w.text.length < 4096) w.text += d.toString('latin1');
    if (w.doneWhen?.(w.text)) w.done = true;
  });
  c.socket.once('close', () => (w.closedAt ??= Date.now()));
  return w;
}

/** Waits until every channel closed, completed or reached its hold time; `tick` runs every 100 ms (the client's pings). */
async function holdAll(ws: readonly Watched[], tick: () => void): Promise<void> {
  while (ws.some((w) => w.closedAt === undefined && !w.done && Date.now() < w.until)) {
    await new Promise((r) => setTimeout(r, 100));
    tick();
  }
}

/** The settings that cut idle channels, narrowed to the intermediary the answers name. */
function likelySetting(p: ProbeContext, text: string): string {
  const seen = `${[...p.serverHeaders].join(' ')} ${text}`;
  if (/nginx/i.test(seen)) return 'nginx proxy_read_timeout (default 60 s) or proxy_send_timeout';
  if (/haproxy|didn't respond in time/i.test(seen)) return 'HAProxy timeout server / timeout client (timeout tunnel once a channel is established)';
  return 'a reverse proxy read time-out (nginx proxy_read_timeout, HAProxy timeout server/client), or a load balancer or firewall idle time-out';
}

const MAPI_HEADERS = (type: string, cookie?: string) => ({
  'Content-Type': 'application/mapi-http',
  'X-RequestType': type,
  'X-RequestId': `{${randomBytes(16).toString('hex')}}:1`,
  'X-ClientInfo': `{${randomBytes(16).toString('hex')}}:1`,
  'X-ClientApplication': 'Outlook/16.0.17928.20000',
  ...(cookie ? { Cookie: cookie } : {}),
});

/** MS-OXCMAPIHTTP §2.2.4.1.1 Connect: UserDn, Flags, DefaultCodePage, LcidSort, LcidString, AuxiliaryBufferSize. */
function connectBody(userDn: string): Buffer {
  const tail = Buffer.alloc(20);
  tail.writeUInt32LE(1252, 4);
  tail.writeUInt32LE(1033, 8);
  tail.writeUInt32LE(1033, 12);
  return Buffer.concat([Buffer.from(`${userDn}\0`, 'latin1'), tail]);
}

/** Connect, then a NotificationWait on the same (authenticated) connection, left running. */
async function openNotificationWait(p: ProbeContext): Promise<{ c: RawClient; pendingMs: number; evidence: string } | Outcome> {
  const xml = p.autodiscover?.xml ?? '';
  const mailbox = /MailboxId=([^<&"]+)/.exec(xml)?.[1] ?? `probe@${p.domain}`;
  const userDn = /<LegacyDN>([^<]+)<\/LegacyDN>/.exec(xml)?.[1];
  if (!userDn) return skip('no LegacyDN in the Autodiscover answer (needed for a MAPI Connect)');
  const path = `/mapi/emsmdb/?MailboxId=${mailbox}`;
  const c = await p.connect();
  const r = await login(p, c, 'POST', path, MAPI_HEADERS('Connect'), connectBody(userDn));
  const refused = gatewayRefusal(r);
  if (refused) {
    c.close();
    return { status: 'warn', evidence: [`MAPI Connect -> ${describe(r)}`], findings: [finding('GATEWAY-POLICY-DENIED', `MAPI over HTTP: ${refused}`)] };
  }
  const bad = authProblem(p, 'MAPI over HTTP', [`MAPI Connect -> ${describe(r)}`]);
  if (bad || r.head.status !== 200 || r.header('x-responsecode') !== '0') {
    c.close();
    return bad ?? { status: 'warn', evidence: [`MAPI Connect -> ${describe(r)}, X-ResponseCode ${r.header('x-responsecode') ?? '(none)'}`] };
  }
  const cookie = r.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
  const body = Buffer.alloc(8);
  const auth = p.basicAuthorization ? { Authorization: p.basicAuthorization } : {};
  const head = { Host: c.host, ...MAPI_HEADERS('NotificationWait', cookie), ...auth, 'Content-Length': '8' };
  c.write(`POST ${path} HTTP/1.1\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  c.write(body);
  const pendingMs = Number(r.header('x-pendingperiod') ?? '30000') || 30000;
  return { c, pendingMs, evidence: `MAPI Connect -> ${describe(r)}; NotificationWait sent (server PENDING period ${pendingMs} ms)` };
}

export async function idleChannels(p: ProbeContext): Promise<Outcome> {
  const pre = needCreds(p);
  if (pre) return pre;
  const quick = p.opts.idleHoldMs ?? QUICK_HOLD_MS;
  const evidence: string[] = [];
  const watched: Watched[] = [];
  const started = Date.now();
  const early: Outcome[] = [];
  try {
    // Opened one after the other (an intermediary that pools upstream connections keeps each on its own), held together.
    const server = p.opts.protocols.includes('rpc') ? rpcServer(p) : undefined;
    let ping = () => {};
    if (server) {
      const ch = await openVirtualConnection(p, server);
      if (!ch.ok) early.push(ch.outcome);
      else {
        // Like Outlook, ping on the IN channel when the proxy's ConnectionTimeout (from CONN/A3) would
        // pass, so a server that expects client pings does not end the connection itself.
        const every = Math.max(1000, (ch.connectionTimeoutMs || 120_000) / 2);
        let last = Date.now();
        ping = () => {
          if (Date.now() - last < every || ch.inCh.closed) return;
          last = Date.now();
          ch.inCh.write(RTS_PING);
        };
        const until = Date.now() + (p.opts.long ? CLIENT_KEEPALIVE_MS + 5000 : quick);
        watched.push(watch('RPC_OUT_DATA channel', ch.outCh, until), watch('RPC_IN_DATA channel', ch.inCh, until));
        evidence.push(`Outlook Anywhere: ${ch.evidence.at(-1)}`);
      }
    } else if (p.opts.protocols.includes('rpc')) evidence.push('Outlook Anywhere: RPC target unknown, not held');
    if (p.opts.protocols.includes('mapi') && p.autodiscover?.mapiHttp) {
      const nw = await openNotificationWait(p);
      if ('status' in nw) early.push(nw);
      else {
        // Quick: long enough to see the first PENDING keep-alive get through; --long: the whole wait.
        const until = Date.now() + (p.opts.long ? NOTIFICATION_WAIT_MAX_MS + 30_000 : Math.max(quick, nw.pendingMs + Math.min(2000, nw.pendingMs / 2)));
        watched.push(watch('MAPI NotificationWait', nw.c, until, (t) => /\r\nDONE\r\n|^DONE\r\n/m.test(t)));
        evidence.push(nw.evidence);
      }
    }
    if (watched.length === 0) {
      if (early.length) return early[0]!;
      return skip('neither an RPC target nor a MAPI/HTTP endpoint to hold (see Autodiscover)');
    }
    await holdAll(watched, ping);
    const findings = [];
    for (const w of watched) {
      const held = ((w.closedAt ?? Date.now()) - started) / 1000;
      if (w.closedAt !== undefined && !w.done) {
        const idle = ((w.closedAt - w.lastData) / 1000).toFixed(1);
        const said = /^HTTP\/1\.\d (\d{3}[^\r\n]*)/m.exec(w.text)?.[1];
        evidence.push(`${w.name}: closed by the path after ${held.toFixed(1)} s (${idle} s without data)${said ? `, with "${said}"` : ''}`);
        findings.push(finding('PATH-IDLE-TIMEOUT', `${w.name} cut after ${idle} s idle; likely ${likelySetting(p, w.text)}`));
      } else if (w.done) evidence.push(`${w.name}: completed normally after ${held.toFixed(1)} s`);
      else evidence.push(`${w.name}: still open after ${held.toFixed(1)} s${p.opts.long ? '' : ' (quick mode; --long holds it up to the 5-minute keep-alive interval)'}`);
    }
    const all = [...early.flatMap((o) => o.findings ?? [])];
    return { status: findings.length || early.some((o) => o.status === 'fail') ? 'fail' : early.length ? 'warn' : 'pass', evidence: [...evidence, ...early.flatMap((o) => o.evidence ?? [])], findings: [...findings, ...all] };
  } finally {
    for (const w of watched) w.c.close();
  }
}
