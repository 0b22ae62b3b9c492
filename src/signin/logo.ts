// The organisation's logo on the sign-in page: a small image file, read at start and reload
// (and checked by `config check`).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileErrorWords } from '../yaml/file-errors.js';

const LOGO_TYPES: Record<string, string> = { '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif' };
const MAX_LOGO = 256 * 1024;

/** The logo file's content, or a one-line problem. */
export function readLogo(file: string): { ok: true; logo: { type: string; bytes: Buffer } } | { ok: false; problem: string } {
  const type = LOGO_TYPES[path.extname(file).toLowerCase()];
  if (!type) return { ok: false, problem: `logo file ${file}: not a .png, .svg, .jpg or .gif file` };
  try {
    if (statSync(file).size > MAX_LOGO) return { ok: false, problem: `logo file ${file}: larger than ${MAX_LOGO / 1024} KiB` };
    return { ok: true, logo: { type, bytes: readFileSync(file) } };
  } catch (e) {
    return { ok: false, problem: `logo file ${file}: ${fileErrorWords(e) ?? (e as Error).message}` };
  }
}
