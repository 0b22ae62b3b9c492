// Windows security identifiers (MS-DTYP 2.4.2): the binary form AD stores in objectSid and
// returns in tokenGroups, and the S-1-5-21-… string form. Pure, bounds-checked.

/** `S-1-5-21-…` from the binary form, or undefined when the bytes are not a well-formed SID. */
export function sidToString(b: Uint8Array): string | undefined {
  // revision (1) | sub-authority count (1) | identifier authority (6, big-endian) | sub-authorities (4 each, little-endian)
  if (b.length < 8 || b[0] !== 1) return undefined;
  const count = b[1]!;
  if (count > 15 || b.length !== 8 + 4 * count) return undefined;
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + b[i]!;
  const parts = [`S-1-${authority}`];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < count; i++) parts.push(String(view.getUint32(8 + 4 * i, true)));
  return parts.join('-');
}

/** The binary form of a string SID, or undefined when it is not one. */
export function sidFromString(s: string): Buffer | undefined {
  const m = /^S-1-(\d+)((?:-\d+){0,15})$/i.exec(s);
  if (!m) return undefined;
  const authority = Number(m[1]);
  if (!Number.isSafeInteger(authority) || authority >= 2 ** 48) return undefined;
  const subs = m[2] ? m[2].slice(1).split('-').map(Number) : [];
  if (subs.some((x) => x > 0xffffffff)) return undefined;
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b.writeUIntBE(authority, 2, 6);
  subs.forEach((x, i) => b.writeUInt32LE(x, 8 + 4 * i));
  return b;
}
