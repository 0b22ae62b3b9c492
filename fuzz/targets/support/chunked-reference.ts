// A second, whole-buffer reading of the chunked grammar chunked.ts implements (RFC 9112 §7.1 with
// its limits), written with regular expressions instead of a state machine. The two must agree
// on whether a body is complete, on its data and on where it ends.

const T = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]"; // tchar
const QUOTED = '"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[^\\r\\n])*"';
const EXT = `;[ \\t]*${T}+[ \\t]*(?:=[ \\t]*(?:${T}+|${QUOTED})[ \\t]*)?`;
const SIZE_LINE = new RegExp(`^([0-9A-Fa-f]{1,13})[ \\t]*(?:${EXT})*\\r\\n`, 'y');
const TRAILER_LINE = new RegExp(`^${T}+:[\\t\\x20-\\x7e\\x80-\\xff]*\\r\\n`, 'y');
const MAX_SIZE_LINE = 1024; // bytes before the LF, CR included
const MAX_TRAILER_BYTES = 16 * 1024;

export interface Complete {
  readonly data: string;
  readonly consumed: number;
}

/** The complete body at the start of `s` (latin1), or undefined if there is none (yet). */
export function referenceDecode(s: string): Complete | undefined {
  let i = 0;
  let data = '';
  for (;;) {
    const line = match(SIZE_LINE, s, i);
    if (!line || line[0].length - 1 > MAX_SIZE_LINE) return undefined;
    i += line[0].length;
    const size = Number.parseInt(line[1]!, 16);
    if (size === 0) break;
    if (s.length < i + size + 2 || s.slice(i + size, i + size + 2) !== '\r\n') return undefined;
    data += s.slice(i, i + size);
    i += size + 2;
  }
  const trailerStart = i;
  for (;;) {
    if (s.startsWith('\r\n', i)) {
      i += 2;
      return i - trailerStart <= MAX_TRAILER_BYTES ? { data, consumed: i } : undefined;
    }
    const field = match(TRAILER_LINE, s, i);
    if (!field) return undefined;
    i += field[0].length;
  }
}

function match(re: RegExp, s: string, at: number): RegExpExecArray | null {
  re.lastIndex = 0;
  return re.exec(s.slice(at));
}
