// Incremental chunked-body decoder (RFC 9112 §7.1). No I/O: push bytes, get data slices back, so it
// can be table-tested at every split point and fuzzed. The gateway re-frames what it decodes, so
// chunk extensions and odd spacing never reach Exchange.
import { type HttpError, httpError } from './errors.js';
import { FIELD_VALUE_BYTE, TCHAR } from './tokens.js';

const CR = 0x0d;
const LF = 0x0a;

/** Longest chunk-size line we accept (size digits plus extensions). */
const MAX_SIZE_LINE = 1024;
const MAX_TRAILER_BYTES = 16 * 1024;
/** 16 hex digits would overflow a safe integer; 13 is plenty (4 PiB). */
const MAX_SIZE_DIGITS = 13;

type State = 'size' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

export interface ChunkedOutput {
  /** Decoded body bytes (views into the pushed buffer, no copies). */
  readonly data: Buffer[];
  /** True once the last chunk and trailer section are complete. */
  readonly done: boolean;
  /** Bytes of the pushed buffer consumed; the rest belongs to the next message. */
  readonly consumed: number;
  readonly error?: HttpError;
}

export class ChunkedDecoder {
  private state: State = 'size';
  private line: number[] = [];
  private remaining = 0;
  private trailerBytes = 0;

  get finished(): boolean {
    return this.state === 'done';
  }

  push(buf: Buffer): ChunkedOutput {
    const data: Buffer[] = [];
    let i = 0;
    while (i < buf.length && this.state !== 'done') {
      switch (this.state) {
        case 'size': {
          const b = buf[i++]!;
          if (b === LF) {
            if (this.line[this.line.length - 1] !== CR) return this.fail(data, i, 'BAD_CHUNK_SIZE', 'bare LF in chunk-size line');
            this.line.pop();
            const size = parseSizeLine(this.line);
            this.line = [];
            if (typeof size !== 'number') return { data, done: false, consumed: i, error: size };
            if (size === 0) this.state = 'trailer';
            else {
              this.remaining = size;
              this.state = 'data';
            }
          } else {
            if (this.line.length > 0 && this.line[this.line.length - 1] === CR) {
              return this.fail(data, i, 'BAD_CHUNK_SIZE', 'bare CR in chunk-size line');
            }
            if (this.line.length >= MAX_SIZE_LINE) return this.fail(data, i, 'BAD_CHUNK_SIZE', 'chunk-size line too long');
            this.line.push(b);
          }
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          data.push(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (buf[i++] !== CR) return this.fail(data, i, 'BAD_CHUNK_DATA', 'chunk data not followed by CRLF');
          this.state = 'data-lf';
          break;
        case 'data-lf':
          if (buf[i++] !== LF) return this.fail(data, i, 'BAD_CHUNK_DATA', 'chunk data not followed by CRLF');
          this.state = 'size';
          break;
        case 'trailer': {
          const b = buf[i++]!;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return this.fail(data, i, 'TRAILER_TOO_LARGE', 'trailer section too large');
          if (b === LF) {
            if (this.line[this.line.length - 1] !== CR) return this.fail(data, i, 'BAD_TRAILER', 'bare LF in trailer section');
            this.line.pop();
            if (this.line.length === 0) this.state = 'done';
            else {
              const err = checkTrailerField(this.line);
              if (err) return { data, done: false, consumed: i, error: err };
              this.line = [];
            }
          } else {
            if (this.line.length > 0 && this.line[this.line.length - 1] === CR) {
              return this.fail(data, i, 'BAD_TRAILER', 'bare CR in trailer section');
            }
            if (b === 0) return this.fail(data, i, 'BAD_TRAILER', 'NUL in trailer section');
            this.line.push(b);
          }
          break;
        }
      }
    }
    return { data, done: this.state === 'done', consumed: i };
  }

  private fail(data: Buffer[], consumed: number, code: HttpError['code'], message: string): ChunkedOutput {
    return { data, done: false, consumed, error: httpError(code, message) };
  }
}

function isHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
}

/** chunk-size [ chunk-ext ]; extensions must be well-formed tokens (they are dropped on re-framing). */
function parseSizeLine(line: number[]): number | HttpError {
  let i = 0;
  while (i < line.length && isHex(line[i]!)) i++;
  if (i === 0) return httpError('BAD_CHUNK_SIZE', 'chunk-size is not hexadecimal');
  if (i > MAX_SIZE_DIGITS) return httpError('BAD_CHUNK_SIZE', 'chunk-size too large');
  const size = parseInt(String.fromCharCode(...line.slice(0, i)), 16);
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  while (i < line.length) {
    if (line[i] !== 0x3b) return httpError('BAD_CHUNK_SIZE', 'garbage after chunk-size');
    i++;
    while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
    const nameStart = i;
    while (i < line.length && TCHAR[line[i]!] === 1) i++;
    if (i === nameStart) return httpError('BAD_CHUNK_SIZE', 'empty chunk extension name');
    while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (line[i] === 0x3d) {
      i++;
      while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
      if (line[i] === 0x22) {
        i++;
        while (i < line.length && line[i] !== 0x22) {
          if (line[i] === 0x5c) i++;
          else if (FIELD_VALUE_BYTE[line[i]!] !== 1) return httpError('BAD_CHUNK_SIZE', 'bad quoted chunk extension');
          i++;
        }
        if (line[i] !== 0x22) return httpError('BAD_CHUNK_SIZE', 'unterminated quoted chunk extension');
        i++;
      } else {
        const vs = i;
        while (i < line.length && TCHAR[line[i]!] === 1) i++;
        if (i === vs) return httpError('BAD_CHUNK_SIZE', 'empty chunk extension value');
      }
      while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
    }
  }
  return size;
}

function checkTrailerField(line: number[]): HttpError | undefined {
  if (line[0] === 0x20 || line[0] === 0x09) return httpError('BAD_TRAILER', 'obs-fold in trailer section');
  let i = 0;
  while (i < line.length && TCHAR[line[i]!] === 1) i++;
  if (i === 0 || line[i] !== 0x3a) return httpError('BAD_TRAILER', 'malformed trailer field');
  for (i++; i < line.length; i++) if (FIELD_VALUE_BYTE[line[i]!] !== 1) return httpError('BAD_TRAILER', 'control character in trailer field');
  return undefined;
}

/** Frames one chunk of data for the wire (trailers are not forwarded: the gateway drops them). */
export function chunkHeader(length: number): Buffer {
  return Buffer.from(`${length.toString(16)}\r\n`, 'latin1');
}

export const CRLF = Buffer.from('\r\n', 'latin1');
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
