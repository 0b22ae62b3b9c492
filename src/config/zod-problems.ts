// Schema problems in the words an admin needs: a missing key is "required" and named, an unknown
// key or value gets "did you mean" (the allowed keys at that path, read from the schema itself,
// so the suggestion can never name a setting that does not exist there).
import type { z } from 'zod';
import { didYouMean } from './did-you-mean.js';
import { type Positions, type Problem, type YamlSource, problemAt } from './yaml-source.js';

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly getter?: () => z.ZodType;
  readonly keyType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly entries?: Record<string, unknown>;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object schemas a value at this point may be checked against (wrappers unwrapped, the union option chosen by its discriminator). */
function objectsOf(schema: z.ZodType, value: unknown): z.ZodType[] {
  for (let s = schema, guard = 0; guard < 32; guard++) {
    const d = defOf(s);
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        s = d.innerType!;
        continue;
      case 'pipe':
        s = d.in!;
        continue;
      case 'lazy':
        s = d.getter!();
        continue;
      case 'union': {
        const options = d.options ?? [];
        const chosen = d.discriminator && isObject(value) ? options.filter((o) => objectsOf(o, value).some((x) => literalOf(x, d.discriminator!) === value[d.discriminator!])) : [];
        return (chosen.length > 0 ? chosen : options).flatMap((o) => objectsOf(o, value));
      }
      case 'object':
      case 'array':
      case 'record':
        return [s];
      default:
        return [];
    }
  }
  return [];
}

function literalOf(objectSchema: z.ZodType, key: string): unknown {
  const field = defOf(objectSchema).shape?.[key];
  if (!field) return undefined;
  const d = defOf(field) as Def & { values?: unknown[] };
  return d.type === 'literal' ? d.values?.[0] : undefined;
}

/** The keys an object at `path` may have (undefined if the path does not lead to an object). */
export function allowedKeys(schema: z.ZodType, root: unknown, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let candidates = [schema];
  let value = root;
  for (const key of path) {
    const next: z.ZodType[] = [];
    for (const c of candidates.flatMap((s) => objectsOf(s, value))) {
      const d = defOf(c);
      if (d.type === 'array' && typeof key === 'number') next.push(d.element!);
      else if (d.type === 'object' && typeof key === 'string' && d.shape?.[key]) next.push(d.shape[key]);
      else if (d.type === 'record' && d.valueType) next.push(d.valueType);
    }
    candidates = next;
    value = isObject(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key as string] : undefined;
  }
  const keys = new Set<string>();
  for (const c of candidates.flatMap((s) => objectsOf(s, value))) {
    const d = defOf(c);
    if (d.type === 'object') for (const k of Object.keys(d.shape ?? {})) keys.add(k);
    if (d.type === 'record' && d.keyType) {
      const kd = defOf(d.keyType);
      for (const k of Object.keys(kd.entries ?? {})) keys.add(k);
    }
  }
  return keys.size > 0 ? [...keys] : undefined;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): { found: boolean; value: unknown } {
  let v = root;
  for (const k of path) {
    if (!(isObject(v) || Array.isArray(v)) || !Object.hasOwn(v, k as string)) return { found: false, value: undefined };
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return { found: true, value: v };
}

/** Turns zod issues into positioned problems; with the schema and the raw value, in an admin's words. */
export function zodProblems(src: YamlSource | Positions, error: z.ZodError, schema?: z.ZodType, root?: unknown): Problem[] {
  return error.issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') {
      const allowed = schema ? (allowedKeys(schema, root, i.path) ?? []) : [];
      return i.keys.map((k) => problemAt(src, [...i.path, k], `unknown setting "${k}"${didYouMean(k, allowed)}`));
    }
    const at = valueAt(root, i.path);
    if (schema && i.path.length > 0 && !at.found && valueAt(root, i.path.slice(0, -1)).found) {
      const key = String(i.path[i.path.length - 1]);
      const expected = i.code === 'invalid_type' ? ` (${i.expected})` : '';
      return [problemAt(src, i.path.slice(0, -1), `required setting "${key}" is missing${expected}`)];
    }
    if (i.code === 'invalid_value' && typeof at.value === 'string') {
      const values = i.values.map(String);
      return [problemAt(src, i.path, `"${at.value}" is not one of ${values.join(', ')}${didYouMean(at.value, values)}`)];
    }
    if (i.code === 'invalid_union' && 'discriminator' in i && typeof at.value === 'string') {
      const values = ((i as { options?: unknown[] }).options ?? []).map(String);
      return [problemAt(src, i.path, `"${at.value}" is not one of ${values.join(', ')}${didYouMean(at.value, values)}`)];
    }
    return [problemAt(src, i.path, i.message)];
  });
}
