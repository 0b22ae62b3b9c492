// libFuzzer-style mutators. Each takes the current bytes and returns new bytes, or undefined when
// it does not apply (e.g. erase on an empty input); `mutate` stacks a few of them, so one
// execution can both fix a length field and insert a token, as real format bugs often need.
import type { Rng } from './rng.js';

export interface MutationContext {
  readonly rng: Rng;
  readonly maxLen: number;
  /** Tokens of the target's format ("\r\n", "chunked", "NTLMSSP\0", ASN.1 tags...). */
  readonly dictionary: readonly Buffer[];
  /** Another corpus entry, for crossover. */
  readonly other: () => Buffer;
}

type Mutator = (b: Buffer, c: MutationContext) => Buffer | undefined;

// Bytes that end or split tokens in the formats we fuzz: controls, separators, high bytes.
const INTERESTING_BYTES = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x30, 0x3a, 0x3b, 0x3d, 0x5c, 0x7f, 0x80, 0xa0, 0xff];
// Boundary values for length and offset fields (libFuzzer's "interesting integers").
const INTERESTING_INTS = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** b with `del` bytes at `at` replaced by `ins`; always a new buffer (corpus entries are shared). */
function splice(b: Buffer, at: number, del: number, ins: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(b.length - del + ins.length);
  out.set(b.subarray(0, at), 0);
  out.set(ins, at);
  out.set(b.subarray(at + del), at + ins.length);
  return out;
}

// Bytes that end a token in text formats (CR, LF, SP, HTAB, ":;,=\"). Half of the insertions go
// next to one: format bugs sit at field edges ("chunked" + one more byte before the CRLF), and a
// uniform position rarely lands there in a 200-byte head.
const SEPARATOR = new Uint8Array(256);
for (const c of [0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x3b, 0x2c, 0x3d, 0x22]) SEPARATOR[c] = 1;

function insertAt(b: Buffer, rng: Rng): number {
  if (b.length === 0 || rng.chance(0.5)) return rng.below(b.length + 1);
  const start = rng.below(b.length);
  for (let k = 0; k < b.length; k++) {
    const i = (start + k) % b.length;
    if (SEPARATOR[b[i]!] === 1) return i + rng.below(2); // just before or just after it
  }
  return b.length;
}

const eraseBytes: Mutator = (b, { rng }) => {
  if (b.length === 0) return undefined;
  const n = 1 + rng.below(Math.min(b.length, rng.chance(0.7) ? 4 : 64));
  return splice(b, rng.below(b.length - n + 1), n, Buffer.alloc(0));
};

const insertBytes: Mutator = (b, { rng }) => {
  const n = rng.chance(0.6) ? 1 : 1 + rng.below(16);
  const repeated = rng.chance(0.5);
  const fill = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
  const ins = Buffer.alloc(n, fill);
  if (!repeated) for (let i = 0; i < n; i++) ins[i] = rng.below(256);
  return splice(b, insertAt(b, rng), 0, ins);
};

const changeByte: Mutator = (b, { rng }) => {
  if (b.length === 0) return undefined;
  const out = Buffer.from(b);
  out[rng.below(b.length)] = rng.chance(0.5) ? rng.pick(INTERESTING_BYTES) : rng.below(256);
  return out;
};

const changeBit: Mutator = (b, { rng }) => {
  if (b.length === 0) return undefined;
  const out = Buffer.from(b);
  out[rng.below(b.length)]! ^= 1 << rng.below(8);
  return out;
};

/** Adds a small delta to, or stores an interesting value in, a 1/2/4-byte integer, LE or BE. */
const changeBinaryInteger: Mutator = (b, { rng }) => {
  const width = rng.pick([1, 2, 4]);
  if (b.length < width) return undefined;
  const at = rng.below(b.length - width + 1);
  const le = rng.chance(0.5);
  const max = 2 ** (8 * width);
  const cur = width === 1 ? b[at]! : width === 2 ? (le ? b.readUInt16LE(at) : b.readUInt16BE(at)) : le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  let v: number;
  if (rng.chance(0.5)) v = cur + (rng.below(35) + 1) * (rng.chance(0.5) ? 1 : -1);
  else if (rng.chance(0.2)) v = b.length - at + rng.below(3) - 1; // "the rest of the message": length fields
  else v = rng.pick(INTERESTING_INTS);
  v = ((v % max) + max) % max;
  const out = Buffer.from(b);
  if (width === 1) out[at] = v;
  else if (width === 2) le ? out.writeUInt16LE(v, at) : out.writeUInt16BE(v, at);
  else le ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at);
  return out;
};

/** Finds a run of decimal or hex digits and replaces it with a nearby or boundary number. */
const changeAsciiInteger: Mutator = (b, { rng }) => {
  const hex = rng.chance(0.3);
  const isDigit = (x: number) => (x >= 0x30 && x <= 0x39) || (hex && ((x >= 0x41 && x <= 0x46) || (x >= 0x61 && x <= 0x66)));
  let s = rng.below(b.length + 1);
  while (s < b.length && !isDigit(b[s]!)) s++;
  if (s >= b.length) return undefined;
  let e = s;
  while (e < b.length && isDigit(b[e]!)) e++;
  const cur = Number.parseInt(b.toString('latin1', s, e), hex ? 16 : 10);
  const choices = [cur + 1, cur - 1, cur * 2, Math.floor(cur / 2), 0, rng.below(1000), 2 ** 31, 2 ** 31 + 1, 2 ** 32, 2 ** 53];
  const v = Math.max(0, rng.pick(choices));
  const text = hex ? v.toString(16) : String(v);
  return splice(b, s, e - s, Buffer.from(rng.chance(0.1) ? '0'.repeat(1 + rng.below(16)) + text : text, 'latin1'));
};

const copyPart: Mutator = (b, { rng }) => {
  if (b.length < 2) return undefined;
  const n = 1 + rng.below(Math.min(b.length, 32));
  const from = rng.below(b.length - n + 1);
  const part = Buffer.from(b.subarray(from, from + n));
  const to = rng.below(b.length + 1);
  return rng.chance(0.5) ? splice(b, to, 0, part) : splice(b, Math.min(to, b.length - n), n, part);
};

const shuffleBytes: Mutator = (b, { rng }) => {
  if (b.length < 2) return undefined;
  const n = 2 + rng.below(Math.min(b.length - 1, 7));
  const at = rng.below(b.length - n + 1);
  const out = Buffer.from(b);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = out[at + i]!;
    out[at + i] = out[at + j]!;
    out[at + j] = t;
  }
  return out;
};

/** Splices with another corpus entry: prefix+suffix, or a slice of it inserted or overwritten. */
const crossOver: Mutator = (b, { rng, other }) => {
  const o = other();
  if (o.length === 0) return undefined;
  const mode = rng.below(3);
  if (mode === 0) return Buffer.concat([b.subarray(0, rng.below(b.length + 1)), o.subarray(rng.below(o.length))]);
  const n = 1 + rng.below(o.length);
  const part = o.subarray(rng.below(o.length - n + 1)).subarray(0, n);
  const at = rng.below(b.length + 1);
  return splice(b, at, mode === 1 ? 0 : Math.min(n, b.length - at), part);
};

const dictionaryWord: Mutator = (b, { rng, dictionary }) => {
  if (dictionary.length === 0) return undefined;
  const w = rng.pick(dictionary);
  const at = insertAt(b, rng);
  return splice(b, at, rng.chance(0.5) ? 0 : Math.min(w.length, b.length - at), w);
};

const MUTATORS: readonly Mutator[] = [
  eraseBytes, insertBytes, changeByte, changeBit, changeBinaryInteger, changeAsciiInteger,
  copyPart, shuffleBytes, crossOver, dictionaryWord, dictionaryWord,
];

/** Applies 1 to 5 stacked mutations (fewer more often), then trims to the target's maxLen. */
export function mutate(input: Buffer, ctx: MutationContext): Buffer {
  const depth = 1 + Math.floor(ctx.rng.next() ** 2 * 5);
  let b = input;
  for (let done = 0, tries = 0; done < depth && tries < 20; tries++) {
    const next = ctx.rng.pick(MUTATORS)(b, ctx);
    if (next === undefined) continue;
    b = next;
    done++;
  }
  if (b === input) b = Buffer.concat([input, Buffer.from([ctx.rng.below(256)])]);
  return b.length > ctx.maxLen ? Buffer.from(b.subarray(0, ctx.maxLen)) : b;
}
