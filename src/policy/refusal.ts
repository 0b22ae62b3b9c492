import type { Protocol } from '../vocabulary/protocols.js';
import type { Refusal } from '../forward/gate.js';
import { REFERENCE_HEADER, newReferenceId } from '../forward/reference-id.js';
import { serializeHead } from '../http/serialize.js';

/**
 * A denial in the form each protocol's clients treat as final:
 * - RPC over HTTP: the MS-RPCH error form "HTTP/1.0 503 RPC Error: 5" (ERROR_ACCESS_DENIED), which
 *   Outlook shows as disconnected instead of prompting for a password;
 * - ActiveSync: 403, on which devices stop retrying (a 401 would loop and lock the account);
 * - everything else: 403 with a short plain-text body.
 * The body names the reason codes and a reference id, never a rule name, a server name or a
 * directory error: those go to the log line (`detail`), which carries the same reference id.
 * The connection is always closed afterwards.
 */
export function refusalFor(protocol: Protocol, status: number, d: { readonly reasons: readonly string[]; readonly rule?: string }, detail?: string): Refusal {
  const reason = d.reasons[0] ?? 'denied';
  const ref = newReferenceId();
  const message = `access denied: ${d.reasons.join(', ')}${d.rule ? ` (rule ${d.rule})` : ''}${detail ? ` - ${detail}` : ''}`;
  const text = status === 503 ? 'service temporarily unavailable' : `access denied: ${d.reasons.join(', ')}`;
  const body = Buffer.from(`${text} (reference ${ref})\n`, 'utf8');
  const headers = [
    { name: 'X-Portcullis-Reason', value: d.reasons.join(', ') },
    { name: REFERENCE_HEADER, value: ref },
    { name: 'Content-Type', value: 'text/plain; charset=utf-8' },
    { name: 'Content-Length', value: String(body.length) },
    { name: 'Connection', value: 'close' },
  ];
  if (protocol === 'rpc' && status === 403) {
    return { status: 503, reason, message, ref, response: Buffer.concat([serializeHead('HTTP/1.0 503 RPC Error: 5', headers), body]) };
  }
  const phrase = status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : 'Forbidden';
  return { status, reason, message, ref, response: Buffer.concat([serializeHead(`HTTP/1.1 ${status} ${phrase}`, headers), body]) };
}
