// The console's one template helper: a tagged template that escapes every interpolation, unless
// the value is already Html (another template's result, or text explicitly marked with
// `trusted`). Arrays are joined, each element escaped the same way; null, undefined and false
// render as nothing. No other code in the console builds HTML from strings.

/** HTML that is safe to put into a page as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** html`<td>${user}</td>`: every `${}` is escaped unless it is Html. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/**
 * Marks text as HTML without escaping it: only for markup this program produced itself (an SVG
 * chart built from numbers). Never for anything a client, the directory or the config supplied.
 */
export function trusted(text: string): Html {
  return new Html(text);
}
