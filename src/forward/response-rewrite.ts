// Bounded buffering of one response body so a gate can rewrite it (Autodiscover answers only;
// every other body streams). Compressed bodies are decoded with an output cap (no zip bombs); an
// oversized or undecodable body is refused, never truncated.
import zlib from 'node:zlib';
import type { HeaderField } from '../http/headers.js';
import { headerValue } from '../http/headers.js';
import type { ResponseHead } from '../http/response-head.js';
import type { ByteSink } from './body-relay.js';
import type { Refusal } from './gate.js';
import type { ReasonCode } from '../vocabulary/reasons.js';

export interface BodyTransform {
  readonly maxBytes: number;
  /** Rewrites the decoded body; a refusal replaces the whole answer. */
  apply(body: Buffer, head: ResponseHead): { readonly ok: true; readonly body: Buffer } | { readonly ok: false; readonly refusal: Refusal };
}

function fail(reason: ReasonCode, message: string): { readonly ok: false; readonly refusal: Refusal } {
  return { ok: false, refusal: { status: 502, reason, message } };
}

export class BufferedBody implements ByteSink {
  private readonly parts: Buffer[] = [];
  private size = 0;
  private overflow = false;

  constructor(readonly transform: BodyTransform) {}

  write(b: Buffer): boolean {
    this.size += b.length;
    if (this.size > this.transform.maxBytes) this.overflow = true;
    else this.parts.push(Buffer.from(b));
    return true;
  }

  cork(): void {}
  uncork(): void {}

  /** The rewritten response (head and body) for the client, or why it cannot be given. */
  finish(head: ResponseHead): { readonly ok: true; readonly head: ResponseHead; readonly body: Buffer } | { readonly ok: false; readonly refusal: Refusal } {
    if (this.overflow) return fail('autodiscover-too-large', `the Autodiscover answer exceeds ${this.transform.maxBytes} bytes`);
    let body = Buffer.concat(this.parts);
    // SP/HTAB only: trim() would also remove 0xA0 and read "gzip\xa0" as gzip.
    const enc = (headerValue(head.headers, 'content-encoding') ?? 'identity').replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
    const opts = { maxOutputLength: this.transform.maxBytes };
    try {
      if (enc === 'gzip' || enc === 'x-gzip') body = zlib.gunzipSync(body, opts);
      else if (enc === 'deflate') body = body[0] !== undefined && (body[0] & 0x0f) === 8 ? zlib.inflateSync(body, opts) : zlib.inflateRawSync(body, opts);
      else if (enc === 'br') body = zlib.brotliDecompressSync(body, opts);
      else if (enc !== 'identity') return fail('autodiscover-encoding', `unsupported Content-Encoding ${enc}`);
    } catch (e) {
      return fail('autodiscover-encoding', `cannot decode the ${enc} Autodiscover answer: ${(e as Error).message}`);
    }
    const r = this.transform.apply(body, head);
    if (!r.ok) return r;
    const headers: HeaderField[] = head.headers.filter((h) => !/^(content-length|content-encoding|transfer-encoding)$/i.test(h.name));
    headers.push({ name: 'Content-Length', value: String(r.body.length) });
    return { ok: true, head: { ...head, headers }, body: r.body };
  }
}
