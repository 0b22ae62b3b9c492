// Character classes from RFC 9110 §5.6.2 (tchar) and §5.5 (field-vchar, obs-text), as lookup
// tables: the parser touches every head byte, so a table lookup beats a regex per character.

export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** Bytes allowed inside a field value: VCHAR, SP, HTAB and obs-text. */
export const FIELD_VALUE_BYTE = new Uint8Array(256);
FIELD_VALUE_BYTE[0x09] = 1;
for (let c = 0x20; c <= 0x7e; c++) FIELD_VALUE_BYTE[c] = 1;
for (let c = 0x80; c <= 0xff; c++) FIELD_VALUE_BYTE[c] = 1;

/** Bytes allowed in a request-target: visible ASCII only (no space, no controls, no obs-text). */
export const TARGET_BYTE = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET_BYTE[c] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}
