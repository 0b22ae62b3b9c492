import type { Protocol } from '../classify/protocols.js';
import type { Refusal } from '../forward/gate.js';
import { serializeHead } from '../http/serialize.js';


/**
 * A denial in the form each protocol's clients treat as final:
 * - RPC over HTTP: the MS-RPCH error form "HTTP/1.0 503 RPC Error: 5" (ERROR_ACCESS_DENIED), which
 *   Outlook shows as disconnected instead of prompting for a password;
 * - ActiveSync: 403, on which devices stop retrying (a 401 would loop and lock the account);
 * - everything else: 403 with a short plain-text body.
 * The connection is always closed afterwards.
 */
export function refusalFor(protocol: Protocol, status: number, d: { readonly reasons: readonly string[]; readonly rule?: string }, detail?: string): Refusal {
  const reason = d.reasons[0] ?? 'denied';
  const message = `access denied: ${d.reasons.join(', ')}${d.rule ? ` (rule ${d.rule})` : ''}${detail ? ` - ${detail}` : ''}`;
  const body = Buffer.from(`${message}\n`, 'utf8');
  const headers = [
    { name: 'X-Portcullis-Reason', value: d.reasons.join(', ') },
    { name: 'Content-Type', value: 'text/plain; charset=utf-8' },
    { name: 'Content-Length', value: String(body.length) },
    { name: 'Connection', value: 'close' },
  ];
  if (protocol === 'rpc' && status === 403) {
    return { status: 503, reason, message, response: Buffer.concat([serializeHead('HTTP/1.0 503 RPC Error: 5', headers), body]) };
  }
  if (status === 401) {
    // Refused before Exchange: offer Basic again so the client can correct the password.
    headers.unshift({ name: 'WWW-Authenticate', value: 'Basic realm="Portcullis"' });
    return { status, reason, message, response: Buffer.concat([serializeHead('HTTP/1.1 401 Unauthorized', headers), body]) };
  }
  const phrase = status === 400 ? 'Bad Request' : status === 503 ? 'Service Unavailable' : 'Forbidden';
  return { status, reason, message, response: Buffer.concat([serializeHead(`HTTP/1.1 ${status} ${phrase}`, headers), body]) };
}
