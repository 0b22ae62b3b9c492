// Collects the bytes of a head that arrives in pieces and parses it incrementally: the parser
// resumes where it stopped instead of rescanning (a slow client sends a head byte by byte).
import type { HttpError } from '../http/errors.js';

const EMPTY = Buffer.alloc(0);

export type HeadParse<H> =
  | { readonly kind: 'incomplete'; readonly resumeAt: number }
  | { readonly kind: 'error'; readonly error: HttpError }
  | { readonly kind: 'head'; readonly head: H; readonly consumed: number };

export type HeadStep<H> =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: HttpError }
  /** `rest`: the bytes after the head (body, or a pipelined request). */
  | { readonly kind: 'head'; readonly head: H; readonly rest: Buffer };

export class HeadReader<H> {
  private buf: Buffer = EMPTY;
  private resume = 0;

  constructor(private readonly parse: (buf: Buffer, resumeAt: number) => HeadParse<H>) {}

  /** Part of a head has arrived and waits for the rest. */
  get started(): boolean {
    return this.buf.length > 0;
  }

  feed(chunk: Buffer): HeadStep<H> {
    const buf = this.buf.length > 0 ? Buffer.concat([this.buf, chunk]) : chunk;
    const r = this.parse(buf, this.resume);
    if (r.kind === 'incomplete') {
      this.buf = buf;
      this.resume = r.resumeAt;
      return r;
    }
    this.buf = EMPTY;
    this.resume = 0;
    return r.kind === 'error' ? r : { kind: 'head', head: r.head, rest: buf.subarray(r.consumed) };
  }
}
