// What the admin views show about the request in flight beyond its protocol and path: the
// ActiveSync device and command (src/classify/activesync-query.ts, the parser the device policy
// judges by, so a view never shows another device than the one judged) and the MAPI/HTTP request
// type (X-RequestType: NotificationWait, …). Pure and bounded: a hostile query yields nothing.
import { parseActiveSyncQuery } from '../classify/activesync-query.js';
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

export function requestDetail(protocol: Protocol, target: string, headers: HeaderList): RequestDetail | undefined {
  if (protocol === 'mapi') {
    const command = clean(headerValue(headers, 'x-requesttype'));
    return command ? { command } : undefined;
  }
  if (protocol !== 'eas') return undefined;
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  const r = parseActiveSyncQuery(target.slice(q + 1));
  return r.ok ? { device: { id: r.query.deviceId, type: r.query.deviceType }, command: r.query.command } : undefined;
}
