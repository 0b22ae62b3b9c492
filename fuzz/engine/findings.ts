// Saves findings so they outlive the run: the raw input (feed it to --reproduce or a unit test)
// and a text note with the message, the stack and the command that replays it.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from './execute.js';

/** The input as text with every byte outside printable ASCII escaped (\r, \n, \t, \xNN). */
export function printable(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (x === 0x0d) s += '\\r';
    else if (x === 0x0a) s += '\\n';
    else if (x === 0x09) s += '\\t';
    else if (x === 0x5c || x === 0x22) s += `\\${String.fromCharCode(x)}`;
    else if (x >= 0x20 && x < 0x7f) s += String.fromCharCode(x);
    else s += `\\x${x.toString(16).padStart(2, '0')}`;
  }
  return s;
}

export function saveFinding(dir: string, target: string, f: Finding): string {
  mkdirSync(dir, { recursive: true });
  const id = createHash('sha1').update(f.input).digest('hex').slice(0, 12);
  const base = path.join(dir, `${target}-${f.kind}-${id}`);
  writeFileSync(`${base}.bin`, f.input);
  const note = [
    `target:    ${target}`,
    `kind:      ${f.kind}`,
    `found at:  execution ${f.atExec ?? '?'}`,
    `message:   ${f.message}`,
    `input:     ${f.input.length} bytes, hex ${f.input.toString('hex').slice(0, 400)}${f.input.length > 200 ? '…' : ''}`,
    `latin1:    "${printable(f.input.subarray(0, 200))}"`,
    `replay:    npm run fuzz -- --target ${target} --reproduce ${base}.bin`,
    '',
    f.stack,
    '',
  ].join('\n');
  writeFileSync(`${base}.txt`, note);
  return `${base}.bin`;
}
