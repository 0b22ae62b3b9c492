// YAML parsing that remembers where every node came from, so each problem can be reported as
// file:line:column, the way an admin's editor shows it.
import { readFileSync } from 'node:fs';
import { type Document, LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { fileErrorWords } from './file-errors.js';

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
  /** A file the config names that does not exist (absolute), so a caller can say who makes it. */
  readonly missingFile?: string;
}

export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** Syntax errors; when present, `doc.toJS()` must not be trusted. */
  readonly syntaxProblems: Problem[];
}

export function readYaml(file: string, text?: string): YamlSource {
  const src = text ?? readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const syntaxProblems = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // The library's message ends in " at line 6, column 1:" and a code excerpt: the position is
    // already in front (file:line:column), the excerpt is the admin's own editor's job.
    const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { file, line: pos.line, column: pos.col, path: '', message };
  });
  return { file, doc, lines, syntaxProblems };
}

/** Formats a data path like `listeners[0].tls.certificates[1].cert`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** Where the nodes on a data path are, without the whole document's positions (plainPositions). */
export interface Positions {
  readonly file: string;
  /** 1-based line and column of the deepest existing node on `path`, as problemAt() finds it. */
  locate(path: ReadonlyArray<PropertyKey>): { line: number; column: number };
}

function locateIn(src: YamlSource, path: ReadonlyArray<PropertyKey>): { line: number; column: number } {
  let node: unknown = src.doc.contents;
  let range: [number, number, number] | undefined = (node as { range?: [number, number, number] } | null)?.range;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      const keyRange = (pair.key as { range?: [number, number, number] } | null)?.range;
      node = pair.value;
      range = (node as { range?: [number, number, number] } | null)?.range ?? keyRange ?? range;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (!item) break;
      node = item;
      range = (item as { range?: [number, number, number] }).range ?? range;
    } else break;
  }
  const pos = src.lines.linePos(range?.[0] ?? 0);
  return { line: pos.line, column: pos.col };
}

/** Locates the deepest existing node on `path` and returns a problem positioned at it. */
export function problemAt(src: YamlSource | Positions, path: ReadonlyArray<PropertyKey>, message: string): Problem {
  const pos = 'locate' in src ? src.locate(path) : locateIn(src, path);
  return { file: src.file, line: pos.line, column: pos.column, path: formatPath(path), message };
}

/**
 * Positions in a document the fast parser read (parsePlainYaml), found without parsing all of it
 * with the `yaml` library (5 s and 200 MiB for a 50,000-user directory): only the lines of the
 * top-level entry on the path, or of the one item of a top-level sequence, are parsed, and the
 * position is shifted back to the file's lines. Anything unexpected falls back to the whole file.
 */
export function plainPositions(file: string, text: string): Positions {
  let whole: YamlSource | undefined;
  const fallback = (path: ReadonlyArray<PropertyKey>) => locateIn((whole ??= readYaml(file, text)), path);
  let lines: string[] | undefined;
  let roots: Array<{ key: string; line: number }> | undefined;
  let rootIndent = 0;
  /** Per root key whose value is a block sequence, the line of each item (found once). */
  const itemLines = new Map<number, number[]>();
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const significant = (l: string) => l.trim() !== '' && !l.trimStart().startsWith('#');
  const isItem = (l: string) => /^ *-( |\r?$)/.test(l);
  const index = () => {
    lines = text.split('\n');
    roots = [];
    const first = lines.findIndex(significant);
    if (first < 0 || isItem(lines[first]!)) return;
    rootIndent = indentOf(lines[first]!);
    lines.forEach((l, i) => {
      // (a sequence at the root key's indentation is that key's value, not a root key)
      if (significant(l) && indentOf(l) === rootIndent && !isItem(l)) roots!.push({ key: l.slice(rootIndent, l.indexOf(':')), line: i });
    });
  };
  /** The position of `path` within lines [from, to) parsed alone; undefined if they do not parse cleanly. */
  const within = (from: number, to: number, path: ReadonlyArray<PropertyKey>) => {
    const part = readYaml(file, lines!.slice(from, to).join('\n'));
    if (part.syntaxProblems.length > 0) return undefined;
    const p = locateIn(part, path);
    return { line: p.line + from, column: p.column };
  };
  return {
    file,
    locate(path) {
      if (!lines) index();
      if (path.length === 0 || roots!.length === 0) return fallback(path);
      const at = roots!.findIndex((r) => r.key === path[0]);
      // No such key: the root mapping, which starts at its first key.
      if (at < 0) return { line: roots![0]!.line + 1, column: rootIndent + 1 };
      const from = roots![at]!.line;
      const to = roots![at + 1]?.line ?? lines!.length;
      const valueLine = lines!.slice(from + 1, to).findIndex(significant) + from + 1;
      if (typeof path[1] === 'number' && valueLine > from && isItem(lines![valueLine]!)) {
        const itemIndent = indentOf(lines![valueLine]!);
        let items = itemLines.get(at);
        if (!items) {
          items = [];
          for (let i = valueLine; i < to; i++) if (indentOf(lines![i]!) === itemIndent && isItem(lines![i]!)) items.push(i);
          itemLines.set(at, items);
        }
        // No such item: the sequence, which starts at its first item.
        if (path[1] >= items.length || path[1] < 0) return { line: valueLine + 1, column: itemIndent + 1 };
        const item = within(items[path[1]]!, items[path[1] + 1] ?? to, [0, ...path.slice(2)]);
        if (item) return item;
      } else {
        const entry = within(from, to, path);
        if (entry) return entry;
      }
      return fallback(path);
    },
  };
}

/**
 * Reads a YAML file's value: the fast reader for plain files, the `yaml` library (positions and
 * all) for the rest. `positions()` places a problem; for a plain file it is computed only then.
 */
export function readYamlValue(file: string, text?: string): { ok: true; value: unknown; positions: () => YamlSource | Positions } | { ok: false; problems: Problem[] } {
  let source: string;
  try {
    source = text ?? readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, problems: [{ file, line: 0, column: 0, path: '', message: fileErrorWords(e) ?? (e as Error).message }] };
  }
  const fast = parsePlainYaml(source);
  if (fast) {
    let positions: Positions | undefined;
    return { ok: true, value: fast.value, positions: () => (positions ??= plainPositions(file, source)) };
  }
  const full = readYaml(file, source);
  if (full.syntaxProblems.length > 0) return { ok: false, problems: full.syntaxProblems };
  return { ok: true, value: full.doc.toJS(), positions: () => full };
}

/** `file:line:column: path: message`; a problem with the file itself (line 0) is `file: message`. */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where}: ${p.path ? p.path + ': ' : ''}${p.message}`;
}

// ---------------------------------------------------------------------------------------------
// The fast path. The `yaml` library builds a concrete syntax tree with a position for every
// token: 5 s and about 200 MiB of garbage for a 6.5 MiB directory of 50,000 users (issue #18).
// Positions are only needed to report problems, so a valid file is first read by this parser of
// the block-style subset admins write (block mappings and sequences, plain and quoted one-line
// scalars, decimal integers, one-line flow collections, comments). Anything else — anchors, tags,
// multi-line scalars, floats, nulls, document markers, tabs, odd indentation — makes it give up
// (undefined), and the caller uses the `yaml` library as before. Where it answers, it answers
// exactly what `parseDocument(text).toJS()` would (src/config/yaml-source.test.ts compares them).

/** A problem on the fast path: not an error, just "let the full parser decide". */
class NotPlain extends Error {}
const giveUp = (): never => {
  throw new NotPlain();
};

// Control characters, tabs, BOM, line separators and a CR not before LF: the full parser's business.
// (Two tests: a plain character class is scanned much faster than an alternation.)
const UNUSUAL = /[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
const LONE_CR = /\r(?!\n)/;
const TRUE = /^(?:[Tt]rue|TRUE)$/;
const FALSE = /^(?:[Ff]alse|FALSE)$/;
// The YAML 1.2 core schema's other plain-scalar types (yaml/dist/schema/core): null, octal and
// hexadecimal ints, floats. (Booleans and decimal ints are read below.)
const NOT_A_STRING = [
  /^(?:~|[Nn]ull|NULL)?$/,
  /^0o[0-7]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
// Only these can start a core-schema null, bool, int or float: other scalars skip the tests.
const MAY_BE_TYPED = /^(?:$|[~nNtTfF0-9+\-.])/;
// Characters that may not start a plain scalar (or start something else: quotes, flow, anchors…).
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`]/;
const REST_OF_LINE = /^(?: *| +#.*)$/;

const DECIMAL = /^[-+]?[0-9]+$/;

function plainValue(s: string): string | boolean | number {
  if (!MAY_BE_TYPED.test(s)) return s;
  if (TRUE.test(s)) return true;
  if (FALSE.test(s)) return false;
  // As the core schema resolves a decimal int (yaml/dist/schema/core/int.js, intAsBigInt off).
  if (DECIMAL.test(s)) return parseInt(s, 10);
  if (NOT_A_STRING.some((r) => r.test(s))) giveUp();
  return s;
}

/** A quoted scalar that ends on this line: [value, index after the closing quote]. */
function quoted(s: string, from: number): [string, number] {
  const q = s[from]!;
  let out = '';
  for (let i = from + 1; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'" && c === "'") {
      if (s[i + 1] !== "'") return [out, i + 1];
      out += "'";
      i++;
    } else if (q === '"' && c === '\\') {
      const e = s[i + 1];
      if (e !== '\\' && e !== '"') giveUp();
      out += e;
      i++;
    } else if (q === '"' && c === '"') return [out, i + 1];
    else out += c;
  }
  return giveUp();
}

const FLOW_ITEM_END = /[,\]}]/g;
const NOT_IN_FLOW_ITEM = /[:#[\]{}]/;

/** A scalar or collection inside a one-line flow collection, at s[i]: [value, index after it]. */
function flowNode(s: string, i: number, depth: number): [unknown, number] {
  const c = s[i];
  if (c === '"' || c === "'") return quoted(s, i);
  if (c === '[' || c === '{') return flowCollection(s, i, depth + 1);
  FLOW_ITEM_END.lastIndex = i;
  const end = FLOW_ITEM_END.exec(s)?.index ?? giveUp();
  const item = s.slice(i, end).trimEnd();
  if (item === '' || INDICATOR.test(item) || NOT_IN_FLOW_ITEM.test(item)) giveUp();
  return [plainValue(item), end];
}

/** `[a, "b", {c: d}]` or `{ k: v, k2: [x] }` that closes on the same line: [value, index after it]. */
function flowCollection(s: string, i: number, depth = 0): [unknown, number] {
  if (depth > 16) giveUp();
  const close = s[i] === '{' ? '}' : ']';
  const map: Record<string, unknown> = {};
  const seq: unknown[] = [];
  i++;
  for (let first = true; ; first = false) {
    while (s[i] === ' ') i++;
    if (s[i] === close && first) break;
    if (close === '}') {
      // `key: value`, the key a plain word; `{a}`, `{a:b}`, `{"a": b}` are the full parser's.
      const after = keyEnd(s, i, s.length);
      if (after < 0 || s[after - 1] !== ' ') giveUp();
      const key = s.slice(i, s.indexOf(':', i));
      if (key === '__proto__' || Object.hasOwn(map, key) || (MAY_BE_TYPED.test(key) && typeof plainValue(key) !== 'string')) giveUp();
      [map[key], i] = flowNode(s, after, depth);
    } else [seq[seq.length], i] = flowNode(s, i, depth);
    while (s[i] === ' ') i++;
    if (s[i] === close) break;
    if (s[i] !== ',') giveUp();
    i++;
  }
  return [close === '}' ? map : seq, i + 1];
}

/** A value that starts and ends on its line, after `key: ` or `- `. */
function inlineValue(s: string): unknown {
  const c = s[0];
  if (c === '"' || c === "'") {
    const [v, end] = quoted(s, 0);
    if (!REST_OF_LINE.test(s.slice(end))) giveUp();
    return v;
  }
  if (c === '[' || c === '{') {
    const [v, end] = flowCollection(s, 0);
    if (!REST_OF_LINE.test(s.slice(end))) giveUp();
    return v;
  }
  if (INDICATOR.test(s)) giveUp();
  const hash = s.indexOf(' #');
  const v = (hash < 0 ? s : s.slice(0, hash)).trimEnd();
  if (v.includes(': ') || v.endsWith(':')) giveUp();
  return plainValue(v);
}

/** A key char: letter, digit, `_` or `-` (a key starts with a letter or `_`). */
function isKeyChar(c: number, first: boolean): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (!first && ((c >= 48 && c <= 57) || c === 45));
}

/**
 * `key:` followed by spaces or the end of the line, at `from`: the index after the colon and its
 * spaces, or -1. Keys are plain words of up to 128 characters; anything else is not for this parser.
 */
function keyEnd(text: string, from: number, end: number): number {
  let i = from;
  while (i < end && i - from <= 128 && isKeyChar(text.charCodeAt(i), i === from)) i++;
  if (i === from || i - from > 128 || text.charCodeAt(i) !== 58) return -1;
  let j = i + 1;
  if (j < end && text.charCodeAt(j) !== 32) return -1;
  while (j < end && text.charCodeAt(j) === 32) j++;
  return j;
}

/**
 * Hands each item of one top-level sequence to `item` as soon as it is read instead of keeping it
 * (the sequence itself reads as []): a 50,000-user directory then never exists as one tree. When
 * the parser gives up later in the text, what the sink received must be thrown away.
 */
export interface ItemSink {
  readonly key: string;
  item(value: unknown): void;
}

/** The subset parser; undefined when the text is outside it (or empty). */
export function parsePlainYaml(input: string, sink?: ItemSink): { value: unknown } | undefined {
  if (UNUSUAL.test(input) || (input.includes('\r') && LONE_CR.test(input))) return undefined;
  const text = input.includes('\r') ? input.replace(/\r\n/g, '\n') : input;
  // The lines that carry something (no blank or comment lines): indentation, start and end of
  // their content, in typed arrays (a 50,000-user file has 300,000 of them).
  let lineCount = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineCount++;
  let count = 0;
  const indents = new Int32Array(lineCount);
  const starts = new Int32Array(lineCount);
  const ends = new Int32Array(lineCount);
  for (let pos = 0; pos <= text.length; ) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    let i = pos;
    while (text.charCodeAt(i) === 32) i++;
    if (i < end && text.charCodeAt(i) !== 35) {
      // Document markers and directives belong to the full parser.
      if (i === pos && (text.startsWith('---', pos) || text.startsWith('...', pos) || text[pos] === '%')) return undefined;
      indents[count] = i - pos;
      starts[count] = i;
      ends[count++] = end;
    }
    pos = end + 1;
  }
  if (count === 0) return undefined;
  let at = 0;
  // The same few keys repeat on every user: reuse their strings rather than slice them again.
  const keys: string[] = [];
  // A key is checked once, when first seen: a plain word that would not read as a string (null,
  // true…) or `__proto__` is for the full parser.
  const keyOf = (from: number): string => {
    const colon = text.indexOf(':', from);
    const length = colon - from;
    for (let i = 0; i < keys.length; i++) if (keys[i]!.length === length && text.startsWith(keys[i]!, from)) return keys[i]!;
    const k = text.slice(from, colon);
    if (k === '__proto__' || (MAY_BE_TYPED.test(k) && typeof plainValue(k) !== 'string')) giveUp();
    if (keys.length < 32) keys.push(k);
    return k;
  };
  const isItem = (l: number) => text.charCodeAt(starts[l]!) === 45 && (starts[l]! + 1 === ends[l] || text.charCodeAt(starts[l]! + 1) === 32);

  const mapping = (indent: number, top = false): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    while (at < count && indents[at] === indent) {
      const from = keyEnd(text, starts[at]!, ends[at]!);
      if (from < 0) giveUp();
      const key = keyOf(starts[at]!);
      if (Object.hasOwn(out, key)) giveUp();
      const rest = from < ends[at]! ? text.slice(from, ends[at]) : '';
      at++;
      if (rest === '' || rest[0] === '#') {
        const items = top && key === sink?.key ? sink : undefined;
        if (at < count && indents[at]! > indent) out[key] = isItem(at) ? sequence(indents[at]!, items) : mapping(indents[at]!);
        else if (at < count && indents[at] === indent && isItem(at)) out[key] = sequence(indent, items);
        else out[key] = null;
      } else {
        out[key] = inlineValue(rest);
        // A deeper line after a one-line value would continue a multi-line scalar.
        if (at < count && indents[at]! > indent) giveUp();
      }
    }
    return out;
  };

  const sequence = (indent: number, items?: ItemSink): unknown[] => {
    const out: unknown[] = [];
    const add = (v: unknown) => (items ? items.item(v) : out.push(v));
    while (at < count && indents[at] === indent && isItem(at)) {
      let j = 1;
      while (text.charCodeAt(starts[at]! + j) === 32) j++;
      const from = starts[at]! + j;
      if (from >= ends[at]! || text[from] === '#' || (text[from] === '-' && (from + 1 === ends[at] || text[from + 1] === ' '))) giveUp();
      if (keyEnd(text, from, ends[at]!) >= 0) {
        // `- key: value`: a mapping whose keys line up with this first one.
        indents[at] = indent + j;
        starts[at] = from;
        add(mapping(indent + j));
      } else {
        add(inlineValue(text.slice(from, ends[at])));
        at++;
        if (at < count && indents[at]! > indent) giveUp();
      }
    }
    return out;
  };

  try {
    const value = isItem(0) ? sequence(indents[0]!) : mapping(indents[0]!, true);
    return at === count ? { value } : undefined;
  } catch (e) {
    if (e instanceof NotPlain) return undefined;
    throw e;
  }
}
