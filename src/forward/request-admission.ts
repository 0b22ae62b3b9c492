// What a request head must pass before any gate is asked: a path that decodes cleanly, framing
// without ambiguity, and nothing that could reach Exchange different from how it was judged.
import { parseActiveSyncQuery } from '../classify/activesync-query.js';
import { classifyRequest } from '../classify/classify.js';
import type { HttpConfig } from './forward-schema.js';
import { statusForError } from '../http/errors.js';
import { type BodyFraming, requestFraming } from '../http/framing.js';
import type { RequestHead } from '../http/request-head.js';
import type { RequestInfo } from './connection-context.js';
import type { Refusal } from './gate.js';
import { checkForwardable } from './request-checks.js';

export type Admission =
  | { readonly ok: true; readonly info: RequestInfo; readonly framing: BodyFraming }
  /** `info` when the path was classified (the refusal's record names it). */
  | { readonly ok: false; readonly info: RequestInfo | undefined; readonly refusal: Refusal };

export function admitHead(head: RequestHead, cfg: HttpConfig): Admission {
  const cls = classifyRequest(head.method, head.target);
  if (!cls.ok) return { ok: false, info: undefined, refusal: { status: 400, reason: 'path-not-canonical', message: cls.reason } };
  let info: RequestInfo = { method: head.method, path: cls.path, protocol: cls.protocol, startedAt: Date.now() };
  // Every ActiveSync command names its device, and the device policy judges that name: a query
  // Exchange could read as another device is refused here (OPTIONS, discovery, names none).
  if (cls.protocol === 'eas' && head.method !== 'OPTIONS') {
    const q = head.target.indexOf('?');
    const eas = parseActiveSyncQuery(q < 0 ? undefined : head.target.slice(q + 1));
    if (!eas.ok) return { ok: false, info, refusal: { status: 400, reason: 'activesync-query-malformed', message: `ActiveSync query: ${eas.problem}` } };
    info = { ...info, device: { id: eas.query.deviceId, type: eas.query.deviceType } };
  }
  const framing = requestFraming(head);
  if ('code' in framing) return { ok: false, info, refusal: { status: statusForError(framing.code), reason: framing.code, message: framing.message } };
  const unfit = checkForwardable(head, cfg.maxHeaders, cfg.forwardedHeaders);
  if (unfit) return { ok: false, info, refusal: unfit };
  return { ok: true, info, framing };
}
