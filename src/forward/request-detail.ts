// What the admin views show about the request in flight beyond its protocol and path: the
// ActiveSync device (DeviceId, DeviceType, Cmd from the query: the plain form and the base64 form
// of MS-ASHTTP 2.2.1.1.1.1) and the MAPI/HTTP request type (X-RequestType: NotificationWait, …).
// Pure and bounded: a hostile query yields nothing rather than an error.
import type { HeaderList } from '../http/headers.js';
import { headerValue } from '../http/headers.js';
import type { Protocol } from '../vocabulary/protocols.js';

export interface RequestDetail {
  /** ActiveSync DeviceId and DeviceType, when the request named them. */
  readonly device?: { readonly id: string; readonly type: string | undefined };
  /** The command: EAS Cmd, MAPI X-RequestType. */
  readonly command?: string;
}

const CLEAN = /^[\x21-\x7e]{1,64}$/;
const clean = (s: string | undefined | null): string | undefined => (s && CLEAN.test(s) ? s : undefined);

/** MS-ASHTTP 2.2.1.1.1.1.1: command codes of the base64 query form. */
const EAS_COMMANDS = [
  'Sync', 'SendMail', 'SmartForward', 'SmartReply', 'GetAttachment', undefined, undefined, undefined, undefined, 'FolderSync',
  'FolderCreate', 'FolderDelete', 'FolderUpdate', 'MoveItems', 'GetItemEstimate', 'MeetingResponse', 'Search', 'Settings', 'Ping',
  'ItemOperations', 'Provision', 'ResolveRecipients', 'ValidateCert',
];

/** The base64 query form: version, command, locale, DeviceId, PolicyKey, DeviceType, parameters. */
export function decodeEasBase64(query: string): RequestDetail | undefined {
  if (query.length > 2048 || !/^[A-Za-z0-9+/=%]+$/.test(query)) return undefined;
  let b: Buffer;
  try {
    b = Buffer.from(decodeURIComponent(query), 'base64');
  } catch {
    return undefined;
  }
  if (b.length < 6) return undefined;
  const command = EAS_COMMANDS[b[1]!];
  let at = 4;
  const idLen = b[at++]!;
  if (at + idLen > b.length) return undefined;
  const id = b.subarray(at, at + idLen).toString('hex');
  at += idLen;
  const keyLen = b[at++] ?? 0;
  at += keyLen;
  const typeLen = b[at++] ?? 0;
  const type = at + typeLen <= b.length ? clean(b.subarray(at, at + typeLen).toString('latin1')) : undefined;
  if (!id) return undefined;
  return { device: { id, type }, ...(command ? { command } : {}) };
}

export function requestDetail(protocol: Protocol, target: string, headers: HeaderList): RequestDetail | undefined {
  if (protocol === 'mapi') {
    const command = clean(headerValue(headers, 'x-requesttype'));
    return command ? { command } : undefined;
  }
  if (protocol !== 'eas') return undefined;
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  const query = target.slice(q + 1);
  if (!query.includes('=') || /^[A-Za-z0-9+/]+=*$/.test(query)) {
    const b = decodeEasBase64(query);
    if (b) return b;
  }
  let p: URLSearchParams;
  try {
    p = new URLSearchParams(query);
  } catch {
    return undefined;
  }
  const get = (n: string) => {
    for (const [k, v] of p) if (k.toLowerCase() === n) return v;
    return undefined;
  };
  const id = clean(get('deviceid'));
  const command = clean(get('cmd'));
  if (!id && !command) return undefined;
  return { ...(id ? { device: { id, type: clean(get('devicetype')) } } : {}), ...(command ? { command } : {}) };
}
