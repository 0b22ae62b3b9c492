// The one refusal builder: every answer the gateway gives a client instead of Exchange's (a
// denial, a malformed request, an upstream failure) is built here, with the reason codes in
// X-Portcullis-Reason and the reference id the record of that request carries.
import type { Protocol } from '../vocabulary/protocols.js';
import type { ReasonCode } from '../vocabulary/reasons.js';
import type { HeaderField } from '../http/headers.js';
import { serializeHead } from '../http/serialize.js';
import { statusPhrase } from '../http/status-phrases.js';
import type { Refusal } from './gate.js';
import { REFERENCE_HEADER, newReferenceId } from './reference-id.js';

/** A plain-text answer with the reason header and the reference id; the connection closes after it. */
export function refusalBytes(status: number, reasons: readonly ReasonCode[], text: string, ref: string, startLine = `HTTP/1.1 ${status} ${statusPhrase(status)}`, body?: { readonly type: string; readonly bytes: Buffer }): Buffer {
  const b = body?.bytes ?? Buffer.from(`${text} (reference ${ref})\n`, 'utf8');
  const headers: HeaderField[] = [
    { name: 'X-Portcullis-Reason', value: reasons.join(', ') },
    { name: REFERENCE_HEADER, value: ref },
    { name: 'Content-Type', value: body?.type ?? 'text/plain; charset=utf-8' },
    { name: 'Content-Length', value: String(b.length) },
    { name: 'Connection', value: 'close' },
  ];
  return Buffer.concat([serializeHead(startLine, headers), b]);
}

/**
 * A denial in the form each protocol's clients treat as final:
 * - RPC over HTTP: the MS-RPCH error form "HTTP/1.0 503 RPC Error: 5" (ERROR_ACCESS_DENIED), which
 *   Outlook shows as disconnected instead of prompting for a password;
 * - ActiveSync: 403, on which devices stop retrying (a 401 would loop and lock the account);
 * - everything else: 403 with a short plain-text body.
 * The body names the reason codes and a reference id, never a rule name, a server name or a
 * directory error: those go to the record (`message`), which carries the same reference id.
 */
export function refusalFor(protocol: Protocol, status: number, d: { readonly reasons: readonly ReasonCode[]; readonly rule?: string }, detail?: string): Refusal {
  const reason = d.reasons[0] ?? 'denied';
  const ref = newReferenceId();
  const message = `access denied: ${d.reasons.join(', ')}${d.rule ? ` (rule ${d.rule})` : ''}${detail ? ` - ${detail}` : ''}`;
  const text = status === 503 ? 'service temporarily unavailable' : `access denied: ${d.reasons.join(', ')}`;
  const base = { reason, reasons: d.reasons, message, ref, ...(d.rule ? { rule: d.rule } : {}) };
  if (protocol === 'rpc' && status === 403) return { status: 503, ...base, response: refusalBytes(503, d.reasons, text, ref, 'HTTP/1.0 503 RPC Error: 5') };
  return { status, ...base, response: refusalBytes(status, d.reasons, text, ref) };
}

/** The bytes of a refusal that brought none of its own: its message (the client's own input, or what failed upstream). */
export function refusalResponse(r: Refusal, ref: string): Buffer {
  return r.response ?? refusalBytes(r.status, [r.reason], r.message, ref);
}
