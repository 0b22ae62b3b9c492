// Body framing as RFC 9112 §6 and README.md state it, written independently of framing.ts so the
// two can be compared: a differential oracle catches a rule the implementation bends (e.g. a
// value that is "chunked" only after some normalisation), not just exceptions.
import type { HeaderList } from '../../../src/http/headers.js';
import { invariant, sameValue } from '../../engine/target.js';

type Model = { kind: 'none' | 'chunked' | 'close' } | { kind: 'length'; length: number } | { code: string };

function values(headers: HeaderList, name: string): string[] {
  return headers.filter((h) => h.name.toLowerCase() === name).map((h) => h.value);
}

function bodyRules(headers: HeaderList, http10Request: boolean, noHeaders: Model): Model {
  const cl = values(headers, 'content-length');
  const te = values(headers, 'transfer-encoding');
  if (cl.length > 0 && te.length > 0) return { code: 'CL_AND_TE' };
  if (te.length > 0) {
    if (http10Request) return { code: 'TE_IN_HTTP10' };
    // The parser already removed OWS (SP, HTAB); the only accepted value is the token itself.
    return te.length === 1 && /^chunked$/i.test(te[0]!) ? { kind: 'chunked' } : { code: 'BAD_TRANSFER_ENCODING' };
  }
  if (cl.length > 1) return { code: 'DUPLICATE_CONTENT_LENGTH' };
  if (cl.length === 0) return noHeaders;
  if (!/^[0-9]{1,12}$/.test(cl[0]!)) return { code: 'BAD_CONTENT_LENGTH' };
  const n = Number(cl[0]);
  if (n > 2 ** 31) return { code: 'CONTENT_LENGTH_TOO_LARGE' };
  return n === 0 ? { kind: 'none' } : { kind: 'length', length: n };
}

export function requestModel(version: '1.0' | '1.1', headers: HeaderList): Model {
  return bodyRules(headers, version === '1.0', { kind: 'none' });
}

export function responseModel(status: number, method: string, headers: HeaderList): Model {
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) return { kind: 'none' };
  return bodyRules(headers, false, { kind: 'close' });
}

/** Compares what framing.ts returned with the model (codes for errors, the value otherwise). */
export function checkFraming(actual: object, model: Model, what: string): void {
  if ('code' in actual) {
    invariant(typeof (actual as { message?: unknown }).message === 'string', `${what}: error without a message`);
    sameValue({ code: (actual as { code: string }).code }, model, `${what} disagrees with RFC 9112 §6`);
  } else sameValue(actual, model, `${what} disagrees with RFC 9112 §6`);
}
