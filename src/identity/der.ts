// A minimal DER TLV reader (and writer for the few shapes the lab sends). Hand-written on purpose:
// SPNEGO needs five tags, and a small bounds-checked reader over untrusted bytes is easier to
// fuzz and reason about than a general ASN.1 library on the authentication path. asn1js serves
// as the test oracle.

export interface Tlv {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  readonly value: Buffer;
  /** Offset just past this TLV in the buffer it was read from. */
  readonly end: number;
}

export type DerResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const MAX_DEPTH_BYTES = 4; // lengths up to 2^32-1 are plenty for an HTTP header token

/** Reads one TLV at `offset`; refuses high tag numbers, indefinite and non-minimal lengths. */
export function readTlv(buf: Buffer, offset = 0): DerResult<Tlv> {
  if (offset >= buf.length) return { ok: false, error: 'DER: unexpected end of data' };
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) return { ok: false, error: 'DER: high tag numbers are not used by SPNEGO' };
  if (offset + 1 >= buf.length) return { ok: false, error: 'DER: missing length' };
  let len = buf[offset + 1]!;
  let i = offset + 2;
  if (len === 0x80) return { ok: false, error: 'DER: indefinite length' };
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > MAX_DEPTH_BYTES) return { ok: false, error: 'DER: length field too long' };
    if (i + n > buf.length) return { ok: false, error: 'DER: truncated length' };
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[i + k]!;
    if (buf[i] === 0 || len < 0x80) return { ok: false, error: 'DER: non-minimal length' };
    i += n;
  }
  if (i + len > buf.length) return { ok: false, error: 'DER: value runs past the end' };
  return { ok: true, value: { tag, value: buf.subarray(i, i + len), end: i + len } };
}

/** Reads all TLVs that make up a constructed value. */
export function readChildren(value: Buffer): DerResult<Tlv[]> {
  const out: Tlv[] = [];
  let i = 0;
  while (i < value.length) {
    const t = readTlv(value, i);
    if (!t.ok) return t;
    out.push(t.value);
    i = t.value.end;
    if (out.length > 64) return { ok: false, error: 'DER: too many elements' };
  }
  return { ok: true, value: out };
}

/** Dotted-decimal form of an OBJECT IDENTIFIER's content octets. */
export function oidToString(v: Buffer): string | undefined {
  if (v.length === 0 || v.length > 64) return undefined;
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (n === 0 && b === 0x80) return undefined; // non-minimal
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 128) return undefined;
    if ((b & 0x80) === 0) {
      parts.push(n);
      n = 0;
    }
  }
  if (n !== 0 || (v[v.length - 1]! & 0x80) !== 0) return undefined;
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one TLV. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const v = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(v.length), v]);
}

export function oidBytes(dotted: string): Buffer {
  const p = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (n: number) => {
    const stack = [n & 0x7f];
    for (n = Math.floor(n / 128); n > 0; n = Math.floor(n / 128)) stack.unshift((n & 0x7f) | 0x80);
    out.push(...stack);
  };
  push(p[0]! * 40 + p[1]!);
  for (const n of p.slice(2)) push(n);
  return Buffer.from(out);
}
