// MAPI over HTTP as the lab speaks it ([MS-OXCMAPIHTTP] §2.2): session cookies, the chunked
// PROCESSING/PENDING/DONE stream, X-ResponseCode, and a NotificationWait that is really held.
import { randomBytes } from 'node:crypto';
import type { LabRequest, LabResponse } from './lab-http.js';
import type { LabState } from './lab-context.js';

interface MapiSession {
  readonly identity: string;
  readonly endpoint: 'emsmdb' | 'nspi';
  waiters: Array<() => void>;
  pendingEvent: boolean;
}

const sessions = new Map<string, MapiSession>();

const EMSMDB = new Set(['connect', 'execute', 'disconnect', 'notificationwait', 'ping']);
const NSPI = new Set([
  'bind', 'unbind', 'comparemids', 'dntomid', 'getmatches', 'getproplist', 'getprops', 'getspecialtable', 'gettemplateinfo',
  'modlinkatt', 'modprops', 'querycolumns', 'queryrows', 'resolvenames', 'resortrestriction', 'seekentries', 'updatestat',
  'getmailboxurl', 'getaddressbookurl', 'ping',
]);

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * 4));
  return b;
}

function cookieOf(req: LabRequest): string | undefined {
  const m = /(?:^|;\s*)MapiContext=([^;]+)/.exec(req.header('cookie') ?? '');
  return m?.[1];
}

function echoHeaders(req: LabRequest, code: number): { name: string; value: string }[] {
  const h = [
    { name: 'X-RequestType', value: req.header('x-requesttype') ?? '' },
    { name: 'X-RequestId', value: req.header('x-requestid') ?? '' },
    { name: 'X-ClientInfo', value: req.header('x-clientinfo') ?? '' },
    { name: 'X-ResponseCode', value: String(code) },
    { name: 'X-ServerApplication', value: 'Exchange/15.02.1118.007' },
  ];
  return h;
}

function failure(req: LabRequest, res: LabResponse, code: number, text: string): void {
  res.send(200, 'OK', `<html><body>${text}</body></html>`, 'text/html', echoHeaders(req, code));
}

/** Wakes a session's NotificationWait (the lab's stand-in for "new mail arrived"). */
export function notifyMapi(identity: string): number {
  let n = 0;
  for (const s of sessions.values()) {
    if (s.identity.toLowerCase() !== identity.toLowerCase()) continue;
    s.pendingEvent = true;
    for (const w of s.waiters.splice(0)) {
      w();
      n++;
    }
  }
  return n;
}

export async function handleMapi(state: LabState, identity: string, req: LabRequest, res: LabResponse): Promise<void> {
  const endpoint = req.path.startsWith('/mapi/nspi') ? 'nspi' : req.path.startsWith('/mapi/emsmdb') ? 'emsmdb' : undefined;
  const type = (req.header('x-requesttype') ?? '').toLowerCase();
  await req.body(16 * 1024 * 1024);
  if (req.method !== 'POST') return failure(req, res, 2, 'Invalid Verb');
  if (!endpoint) return failure(req, res, 3, 'Invalid Path');
  if (!type) return failure(req, res, 7, 'Missing Header');
  if (!(endpoint === 'emsmdb' ? EMSMDB : NSPI).has(type)) return failure(req, res, 5, 'Invalid Request Type');
  if (!req.header('x-requestid') || !req.header('x-clientinfo')) return failure(req, res, 7, 'Missing Header');

  const opening = type === 'connect' || type === 'bind';
  let cookie = cookieOf(req);
  let session = cookie ? sessions.get(cookie) : undefined;
  if (!opening && type !== 'ping') {
    if (!cookie) return failure(req, res, 13, 'Missing Cookie');
    if (!session) return failure(req, res, 10, 'Context Not Found');
    // Exchange binds the session to the authenticated user: another user gets "context not found".
    if (session.identity !== identity) return failure(req, res, 10, 'Context Not Found');
  }
  const headers = echoHeaders(req, 0);
  if (opening) {
    cookie = randomBytes(16).toString('hex');
    session = { identity, endpoint, waiters: [], pendingEvent: false };
    sessions.set(cookie, session);
    headers.push({ name: 'Set-Cookie', value: `MapiContext=${cookie}; path=/mapi/${endpoint}; secure; HttpOnly` });
    headers.push({ name: 'Set-Cookie', value: `MapiSequence=1; path=/mapi/${endpoint}; secure; HttpOnly` });
  }
  const period = state.options.mapi.pendingPeriodMs;
  headers.push(
    { name: 'X-PendingPeriod', value: String(period) },
    { name: 'X-ExpirationInfo', value: '900000' },
    { name: 'Content-Type', value: 'application/mapi-http' },
    { name: 'Cache-Control', value: 'private' },
  );
  res.writeHead(200, 'OK', headers);
  const started = Date.now();
  res.write('PROCESSING\r\n');
  const pending = setInterval(() => res.write('PENDING\r\n'), period);
  req.once('close', () => clearInterval(pending));
  let body: Buffer;
  if (type === 'notificationwait') {
    const s = session!;
    const event = await new Promise<boolean>((resolve) => {
      if (s.pendingEvent) return resolve(true);
      const timer = setTimeout(() => {
        s.waiters = s.waiters.filter((w) => w !== wake);
        resolve(false);
      }, state.options.mapi.notificationWaitMs);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      s.waiters.push(wake);
      req.once('close', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    s.pendingEvent = false;
    body = Buffer.concat([u32(0, 0, event ? 1 : 0), u32(0)]);
  } else if (type === 'connect') {
    const display = Buffer.from(`${identity.split('\\')[1]}\0`, 'utf16le');
    body = Buffer.concat([u32(0, 0, 60000, 6, 10000), Buffer.from('/o=Lab/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)\0', 'latin1'), display, u32(0)]);
  } else if (type === 'execute') {
    body = Buffer.concat([u32(0, 0, 0, 0), u32(0)]);
  } else if (type === 'disconnect' || type === 'unbind') {
    if (cookie) sessions.delete(cookie);
    body = u32(0, 0, 0);
  } else {
    body = u32(0, 0, 0);
  }
  clearInterval(pending);
  res.write(`DONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: ${Date.now() - started}\r\nX-StartTime: ${new Date(started).toUTCString()}\r\n\r\n`);
  res.end(body);
}
