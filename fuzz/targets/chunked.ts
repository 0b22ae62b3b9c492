// The incremental chunked decoder (chunked.ts). Oracles: every push consumes within what it was
// given, and all of it unless it finished or failed; data are views into the pushed bytes; the
// same bytes in three pieces (input-derived cuts) and one byte at a time (short inputs) decode
// alike; "complete" agrees with a regex reading of the grammar; a finished decoder takes nothing
// more; what it decoded, re-framed as one chunk, decodes to the same data.
import { ChunkedDecoder } from '../../src/http/chunked.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';
import { referenceDecode } from './support/chunked-reference.js';
import { splitPoints } from './support/splits.js';

interface Decoded {
  readonly data: string;
  readonly done: boolean;
  readonly consumed: number;
  readonly error?: string;
}

function decode(parts: Buffer[]): Decoded {
  const d = new ChunkedDecoder();
  let data = '';
  let offset = 0;
  for (const part of parts) {
    const r = d.push(part);
    invariant(r.consumed >= 0 && r.consumed <= part.length, 'consumed outside the pushed buffer', () => [r.consumed, part.length]);
    let bytes = 0;
    for (const slice of r.data) {
      invariant(slice.buffer === part.buffer && slice.byteOffset >= part.byteOffset, 'data is not a view of the pushed buffer');
      invariant(slice.byteOffset + slice.length <= part.byteOffset + r.consumed, 'data beyond what was consumed');
      bytes += slice.length;
      data += slice.toString('latin1');
    }
    invariant(bytes <= r.consumed, 'more data than bytes consumed');
    invariant(d.finished === r.done, 'finished and done disagree');
    if (r.error) {
      invariant(/^[A-Z_]+$/.test(r.error.code) && r.error.message.length > 0, 'malformed error', () => r.error);
      return { data, done: false, consumed: offset + r.consumed, error: r.error.code };
    }
    if (r.done) {
      const after = d.push(Buffer.from('0\r\n\r\n'));
      invariant(after.consumed === 0 && after.data.length === 0 && after.done, 'a finished decoder took more bytes');
      return { data, done: true, consumed: offset + r.consumed };
    }
    invariant(r.consumed === part.length, 'stopped early without finishing or failing', () => [r.consumed, part.length]);
    offset += part.length;
  }
  return { data, done: false, consumed: offset };
}

const target: FuzzTarget = {
  name: 'chunked',
  sources: [sourceUrl('../../src/http/chunked.ts', import.meta.url)],
  maxLen: 4096,
  dictionary: [
    '\r\n', '0\r\n\r\n', '\r\n0\r\n\r\n', ';', ';a=b', ';a="b c"', '="', '\\', '"', '=', ' ', '\t', 'X-T: v\r\n',
    'fffffffffffff', '10000000000000', '0000000000000', 'a', 'F', ':', '\x00', '\r', '\n', '\x7f', '\x80',
  ],
  run(input) {
    const whole = decode([input]);
    const [a, b] = splitPoints(input, 2) as [number, number];
    sameValue(decode([input.subarray(0, a), input.subarray(a, b), input.subarray(b)]), whole, 'three pieces decode differently');
    if (input.length <= 96) {
      const bytes = [...input].map((x) => Buffer.from([x]));
      sameValue(decode(bytes), whole, 'byte-at-a-time decodes differently');
    }
    const ref = referenceDecode(input.toString('latin1'));
    sameValue(whole.done ? { data: whole.data, consumed: whole.consumed } : undefined, ref, 'decoder and grammar disagree');
    if (whole.done) {
      const data = Buffer.from(whole.data, 'latin1');
      const reframed = Buffer.concat([
        ...(data.length > 0 ? [Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')] : []),
        Buffer.from('0\r\n\r\n'),
      ]);
      sameValue(decode([reframed]), { data: whole.data, done: true, consumed: reframed.length }, 're-framed body decodes differently');
    }
  },
};

export default target;
