import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { parsePlainYaml, plainPositions, problemAt, readYaml } from './yaml-source.js';

/** What the full parser makes of `text`, as loadConfig/loadDirectoryFile read it. */
function full(text: string): { clean: boolean; value: unknown } {
  const doc = parseDocument(text, { uniqueKeys: true });
  return { clean: doc.errors.length === 0 && doc.warnings.length === 0, value: doc.toJS() };
}

/** The fast path either gives up or agrees with the full parser on a text it finds clean. */
function agrees(text: string): 'fast' | 'full' {
  const fast = parsePlainYaml(text);
  if (fast === undefined) return 'full';
  const f = full(text);
  assert.ok(f.clean, `fast path accepted what the full parser refuses:\n${text}`);
  assert.deepEqual(fast.value, f.value, `different values for:\n${text}`);
  return 'fast';
}

// A small deterministic generator (xorshift), so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const GOOD_KEYS = ['name', 'sAMAccountName', 'groups', 'members', 'enabled', 'k-1', '_x', 'x1', 'y'];
const GOOD_SCALARS = [
  'alice', 'Alice Archer', 'alice@lab.example', 'LAB\\alice', 'Smith, John', "O'Brien", 'a#b', 'a #comment', 'a:b', "'it''s'", '"LAB\\\\bob"', '[a, b]', '[]', 'true', 'False', 'G-001', 'ünïcödé',
  '8443', '0', '-3', '+7', '{ a: b }', '{}', '{a: [b, c], d: "e:f"}', '[{ a: b }, c]', '{ x: 1, y: { z: true } }', "{ k-1: 'v' }",
];
const KEYS = ['name', 'sAMAccountName', 'groups', 'members', 'enabled', 'k-1', '_x', 'true', 'null', 'Null', '__proto__', 'a b', '"q"', 'x1', 'y'];
const SCALARS = [
  'alice', 'Alice Archer', 'alice@lab.example', 'LAB\\alice', 'Smith, John', "O'Brien", 'a#b', 'a #comment', 'a: b', 'a:', 'a:b', ':a', '-a', '- a', '?a',
  '1', '007', '-1', '+2', '0x1F', '0o17', '1e3', '1.5', '.5', '.inf', '-.Inf', '.nan', '~', 'null', 'NULL', 'true', 'True', 'FALSE', 'yes', 'no', 'on',
  "'single'", "'it''s'", "''", '"double"', '"LAB\\\\bob"', '"a\\"b"', '"a\\nb"', '"a\\tb"', '""', '"unterminated', "'unterminated",
  '[]', '[ ]', '[a, b]', '[a,b]', "[a, 'b,c', \"d\"]", '[a,, b]', '[a, ]', '[a]x', '[a] # c', '[[a]]', '[a: b]', '[a #b]', '[1, 2]', '[true, x]', '[a b, c]',
  '{a: 1}', '{}', '{a:b}', '{ a }', '{ a: b, }', '{ "a": b }', '{ a: b: c }', '{ a: b } x', '{ a: [b }', '{a: b', '{ a: b, a: c }', '{ __proto__: x }', '{ true: x }', '{ a: -b }', '{ a: b #c }',
  '-0', '00', '007', '1_000', '1.0', '12345678901234567890', '&anchor a', '*alias', '!tag a', '|', '>', '%x', '@x', '`x', 'a [b] {c}', 'x ', 'G-001', 'Passw0rd!', 'ünïcödé', '"ünï"', 'a"b', "a'b",
];

function genValue(r: () => number, indent: number, depth: number): string[] {
  const pick = <T>(a: readonly T[]) => a[Math.floor(r() * a.length)]!;
  const scalar = () => (r() < 0.85 ? pick(GOOD_SCALARS) : pick(SCALARS));
  const kind = depth > 3 ? 0 : Math.floor(r() * 4);
  if (kind <= 1) return [` ${scalar()}`];
  const step = pick([2, 2, 4, 1, 3]);
  if (kind === 2) {
    // a mapping on the following lines
    const n = 1 + Math.floor(r() * 3);
    return ['', ...Array.from({ length: n }, () => genPair(r, indent + step, depth + 1)).flat()];
  }
  // a sequence, sometimes compact (same indent as the key)
  const at = r() < 0.3 ? indent : indent + step;
  const n = 1 + Math.floor(r() * 3);
  const items: string[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.5) items.push(`${' '.repeat(at)}- ${scalar()}`);
    else {
      const pairs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => genPair(r, at + 2, depth + 1)).flat();
      items.push(`${' '.repeat(at)}- ${pairs[0]!.trimStart()}`, ...pairs.slice(1));
    }
  }
  return ['', ...items];
}

function genPair(r: () => number, indent: number, depth: number): string[] {
  const keys = r() < 0.95 ? GOOD_KEYS : KEYS;
  const key = keys[Math.floor(r() * keys.length)]!;
  const [first, ...rest] = genValue(r, indent, depth);
  return [`${' '.repeat(indent)}${key}:${first}`, ...rest];
}

function genDocument(seed: number): string {
  const r = rng(seed);
  const lines = Array.from({ length: 1 + Math.floor(r() * 4) }, () => genPair(r, 0, 0)).flat();
  // noise: comments, blank lines, trailing spaces, a shifted line, CRLF
  const out: string[] = [];
  for (const l of lines) {
    const x = r();
    if (x < 0.05) out.push('# a comment');
    else if (x < 0.08) out.push('');
    else if (x < 0.1) out.push(`   # indented comment`);
    if (r() < 0.01) out.push(` ${l}`);
    else if (r() < 0.03) out.push(`${l}   `);
    else if (r() < 0.005) out.push(l.replace(/^( *)/, '$1\t'));
    else out.push(l);
  }
  return out.join(r() < 0.1 ? '\r\n' : '\n') + (r() < 0.5 ? '\n' : '');
}

describe('parsePlainYaml (the fast path of directory and config files)', () => {
  it('reads the demo directory and a generated 1,000-user directory exactly as the yaml library does', () => {
    const demo = readFileSync(new URL('../../examples/demo/directory.yaml', import.meta.url), 'utf8');
    assert.equal(agrees(demo), 'fast');
    const users = Array.from({ length: 1000 }, (_, i) => `  - sAMAccountName: u${i}\n    domain: LAB\n    userPrincipalName: u${i}@lab.example\n    mail: u${i}@lab.example\n    enabled: ${i % 7 !== 0}\n    groups: [G-${i % 20}, "Other Group"]\n`).join('');
    assert.equal(agrees(`domains:\n  netbios: [LAB]\n  upnSuffixes: [lab.example]\ngroups:\n- name: G-1\n  members:\n  - G-2\nusers:\n${users}`), 'fast');
  });

  it('gives up on what it does not know, so the full parser reports it with its position', () => {
    for (const t of ['a: 1.5', 'a: [0x1]', 'a: {b:c}', 'a: &x b\nc: *x', 'a: !!str b', 'a: |\n  text', 'a: b\n  c', '---\na: b', 'a:\tb', 'a: b\na: c', '"a": b', 'a: "x\\ny"', '', '# only a comment', 'a: null', 'a: ~', '__proto__: x', 'a: [b,\n  c]', '\ufeffa: b']) {
      assert.equal(parsePlainYaml(t), undefined, JSON.stringify(t));
    }
  });

  it('keeps what the yaml library keeps: booleans, quotes, comments, compact sequences, CRLF', () => {
    assert.deepEqual(parsePlainYaml('a: True\nb: "LAB\\\\x" # c\nc: \'it\'\'s\'\nd:\n- x\n- y: z\n  w: [v, "u,t"]\r\n'), {
      value: { a: true, b: 'LAB\\x', c: "it's", d: ['x', { y: 'z', w: ['v', 'u,t'] }] },
    });
  });

  it('agrees with the yaml library on 20,000 generated documents (or leaves them to it)', () => {
    let fast = 0;
    for (let seed = 1; seed <= 20_000; seed++) if (agrees(genDocument(seed)) === 'fast') fast++;
    // The generator is meant to hit both paths: a fast path that gives up on everything proves nothing.
    assert.ok(fast > 2_000, `only ${fast} documents took the fast path`);
  });

  it('places problems in a plain file where the yaml library places them, parsing only around them', () => {
    // Random paths into generated documents: existing keys and items, and missing ones (the
    // position is then the deepest node that exists).
    let compared = 0;
    for (let seed = 1; seed <= 3_000; seed++) {
      const r = rng(seed * 7919);
      const text = r() < 0.3 ? genDocument(seed) : `top: x\nlist:\n${Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => genPair(r, 4, 2).join('\n').replace(/^ {4}/, `  - `) + (i % 2 ? '\n  # between items' : '')).join('\n')}\nlast:${genValue(r, 0, 1).join('\n')}\n`;
      const fast = parsePlainYaml(text);
      if (!fast) continue;
      const full = readYaml('/f.yaml', text);
      const plain = plainPositions('/f.yaml', text);
      for (let n = 0; n < 6; n++) {
        const path: PropertyKey[] = [];
        let v: unknown = fast.value;
        while (r() < 0.8) {
          if (Array.isArray(v)) {
            const i = Math.floor(r() * (v.length + 1));
            path.push(i);
            v = v[i];
          } else if (v && typeof v === 'object') {
            const keys = Object.keys(v);
            const k = r() < 0.9 && keys.length ? keys[Math.floor(r() * keys.length)]! : 'missing';
            path.push(k);
            v = (v as Record<string, unknown>)[k];
          } else break;
        }
        assert.deepEqual(problemAt(plain, path, 'm'), problemAt(full, path, 'm'), `${JSON.stringify(path)} in:\n${text}`);
        compared++;
      }
    }
    assert.ok(compared > 3_000, `${compared} paths compared`);
  });
});
