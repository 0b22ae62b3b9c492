// YAML parsing that remembers where every node came from, so each problem can be reported as
// file:line:column, the way an admin's editor shows it.
import { readFileSync } from 'node:fs';
import { type Document, LineCounter, isMap, isSeq, parseDocument } from 'yaml';

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
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
    return { file, line: pos.line, column: pos.col, path: '', message: e.message.split('\n')[0]! };
  });
  return { file, doc, lines, syntaxProblems };
}

/** Formats a data path like `listeners[0].tls.certificates[1].cert`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** Locates the deepest existing node on `path` and returns a problem positioned at it. */
export function problemAt(src: YamlSource, path: ReadonlyArray<PropertyKey>, message: string): Problem {
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
  return { file: src.file, line: pos.line, column: pos.col, path: formatPath(path), message };
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? p.path + ': ' : ''}${p.message}`;
}
