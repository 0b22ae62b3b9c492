/** One header field as received: the name keeps its case, the value is latin1 (byte-exact). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

export type HeaderList = readonly HeaderField[];

/** Every value of a header, matched case-insensitively. */
export function headerValues(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const h of headers) if (h.name.toLowerCase() === lower) out.push(h.value);
  return out;
}

/** The single value of a header, or undefined; callers that must refuse repeats use headerValues. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const h of headers) if (h.name.toLowerCase() === lower) return h.value;
  return undefined;
}

/** Comma-separated list members of all fields with this name, trimmed and lower-cased. */
export function headerTokens(headers: HeaderList, name: string): string[] {
  const out: string[] = [];
  for (const v of headerValues(headers, name)) {
    for (const part of v.split(',')) {
      // Optional whitespace is SP and HTAB only (RFC 9110 §5.6.3); trim() would also eat 0xA0.
      const t = part.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
      if (t) out.push(t);
    }
  }
  return out;
}
