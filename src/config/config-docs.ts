// docs/configuration.md is generated from the schema (`npm run docs:config`), so the reference
// cannot miss a key or keep a stale default: every key with its type, default, description and
// an example. Examples come from the example configurations where they set the key (real values
// in context), else from the default, else from EXAMPLES below (a test keeps that complete).
// Hand-written sections (docs/configuration/*.md) are included after the reference.
import { readFileSync, readdirSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { configSchema } from './schema.js';

type Json = Record<string, unknown>;

export interface KeyDoc {
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  readonly default?: unknown;
  readonly description: string;
  readonly example?: unknown;
  /** The key holds an object (or a list of them) whose keys have rows of their own. */
  readonly container: boolean;
}

const ROOT = new URL('../../', import.meta.url);
const EXAMPLE_FILES = ['examples/production/portcullis.yaml', 'examples/demo/portcullis.yaml'];
const NOTES_DIR = 'docs/configuration';

/** Values for keys that neither example configuration sets and that have no default. */
export const EXAMPLES: Readonly<Record<string, unknown>> = {
  'admin.tls.cert': 'admin.crt',
  'admin.tls.key': 'admin.key',
  'admin.console.directoryGroups[].group': 'Exchange-Helpdesk',
  'admin.console.directoryGroups[].role': 'viewer',
  'listeners[].tls.certificates[].serverNames': ['mail.contoso.com', 'autodiscover.contoso.com'],
  'listeners[].forwardedFor.trustedProxies': ['10.0.0.10/32'],
  'audit.postgres.url': 'postgres://portcullis@db1.corp.contoso.com:5432/portcullis',
  'audit.postgres.passwordFile': 'secrets/audit-db.password',
  'state.postgres.url': 'postgres://portcullis@db1.corp.contoso.com:5432/portcullis',
  'state.postgres.passwordFile': 'secrets/state-db.password',
  'listeners[].tls.ciphers': 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256',
  'upstream.tls.servername': 'exch01.corp.contoso.com',
  'zones.external.blockedProtocols': ['unknown', 'ecp', 'powershell'],
  'zones.external.concealDenials': true,
  'zones.internal.blockedProtocols': ['powershell'],
  'zones.internal.concealDenials': false,
  'directory.url': 'ldaps://dc1.corp.contoso.com',
  'directory.bindPassword': 'change-me',
  'directory.startTls': true,
  'policy.rules[].users': ['CONTOSO\\ceo', 'cfo@contoso.com'],
  'policy.rules[].clientCidrs': ['198.51.100.0/24'],
  'policy.rules[].authentication': ['user', 'kerberos'],
  'signin.logo': 'contoso-logo.svg',
  'signin.passwordChangeUrl': 'https://passwordreset.contoso.com/',
  'signin.keyFile': '/var/lib/portcullis/signin.key',
  'identity.bearer.jwksFile': 'jwks.json',
  'identity.bearer.pemFile': 'bearer-signing.pem',
  'identity.bearer.issuer': 'https://login.contoso.com/',
  'identity.bearer.audience': 'https://mail.contoso.com',
  'admin.allowedHosts': ['portcullis-admin.corp.contoso.com'],
  'edge.rpcTargets.hosts': ['exch01.corp.contoso.com'],
  'edge.allowedPaths': { ews: ['/ews/exchange.asmx', '/ews/services.wsdl'] },
  'edge.additionalPaths': { ews: ['/ews/mrsproxy.svc'] },
  'edge.offeredSchemes': { eas: ['Basic'] },
};

/** The schema as JSON Schema, the way `config schema` prints it (input side: what a file may say). */
export function configJsonSchema(): Json {
  return z.toJSONSchema(configSchema, { io: 'input' }) as Json;
}

function typeOf(s: Json): string {
  if (Array.isArray(s['anyOf'])) return (s['anyOf'] as Json[]).map(typeOf).join(' \\| ');
  if ('const' in s) return JSON.stringify(s['const']);
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' \\| ');
  const t = s['type'];
  // The duration fields (src/vocabulary/duration.ts) accept "15m"-style strings or milliseconds.
  if (Array.isArray(t) && t.includes('number') && t.includes('string')) return 'duration';
  if (t === 'array') return `list of ${typeOf((s['items'] as Json | undefined) ?? {})}`;
  if (t === 'integer' || t === 'number') {
    const min = s['minimum'];
    const max = s['maximum'];
    const range = typeof min === 'number' && typeof max === 'number' && max < Number.MAX_SAFE_INTEGER ? ` ${min}–${max}` : typeof min === 'number' ? ` ≥ ${min}` : '';
    return `${String(t)}${range}`;
  }
  if (t === 'string' && typeof s['pattern'] === 'string' && String(s['pattern']).includes('ldaps')) return 'ldap:// or ldaps:// URL';
  if (t === 'object' && typeof s['additionalProperties'] === 'object') {
    const keys = s['propertyNames'] as Json | undefined;
    return `map of ${keys?.['enum'] ? 'protocol' : 'name'} → ${typeOf(s['additionalProperties'] as Json)}`;
  }
  return typeof t === 'string' ? t : 'any';
}

/** The value an example file gives this key (in a list, the first element that has it). */
function valueAt(doc: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return doc;
  if (Array.isArray(doc)) return doc.map((item) => valueAt(item, segments)).find((v) => v !== undefined);
  if (doc === null || typeof doc !== 'object') return undefined;
  const [head, ...rest] = segments;
  return valueAt((doc as Json)[head!.replace(/\[\]$/, '')], rest);
}

function isContainer(s: Json): boolean {
  const items = s['items'] as Json | undefined;
  return s['properties'] !== undefined || s['oneOf'] !== undefined || (s['type'] === 'array' && items?.['properties'] !== undefined);
}

/** Every key of the schema, depth first, in the schema's order. Union variants get a `(provider: x)` label. */
export function configKeys(schema: Json = configJsonSchema(), examples: readonly unknown[] = loadExamples()): KeyDoc[] {
  const out: KeyDoc[] = [];
  const visit = (s: Json, prefix: string, label: string, required: boolean, name: string, docs: readonly unknown[]) => {
    const path = `${prefix}${name}`;
    const isArrayOfObjects = s['type'] === 'array' && (s['items'] as Json | undefined)?.['properties'] !== undefined;
    const fromExamples = isContainer(s) ? undefined : docs.map((d) => valueAt(d, path.split('.'))).find((v) => v !== undefined);
    const dflt = s['default'];
    out.push({
      path: path + label,
      type: s['oneOf'] ? 'one of the variants below' : typeOf(s),
      required,
      ...(dflt !== undefined && !(typeof dflt === 'object' && dflt !== null && !Array.isArray(dflt)) ? { default: dflt } : {}),
      description: String(s['description'] ?? ''),
      ...(isContainer(s) ? {} : { example: 'const' in s ? s['const'] : (fromExamples ?? EXAMPLES[path] ?? dflt) }),
      container: isContainer(s),
    });
    if (isArrayOfObjects) children(s['items'] as Json, `${path}[].`, label, docs);
    else if (s['properties']) children(s, `${path}.`, label, docs);
    else if (Array.isArray(s['oneOf'])) {
      for (const v of s['oneOf'] as Json[]) {
        const tag = Object.entries((v['properties'] ?? {}) as Record<string, Json>).find(([, p]) => 'const' in p);
        if (!tag) {
          children(v, `${path}.`, label, docs);
          continue;
        }
        // Examples of a variant come only from files that use that variant.
        const own = docs.filter((d) => valueAt(d, [...path.split('.'), tag[0]]) === tag[1]['const']);
        children(v, `${path}.`, ` (${tag[0]}: ${String(tag[1]['const'])})`, own);
      }
    }
  };
  const children = (s: Json, prefix: string, label: string, docs: readonly unknown[]) => {
    const req = new Set((s['required'] as string[] | undefined) ?? []);
    for (const [k, v] of Object.entries((s['properties'] ?? {}) as Record<string, Json>)) visit(v, prefix, label, req.has(k), k, docs);
  };
  children(schema, '', '', examples);
  return out;
}

function loadExamples(): unknown[] {
  return EXAMPLE_FILES.map((f) => parse(readFileSync(new URL(f, ROOT), 'utf8')) as unknown);
}

/** A value as it is written in the YAML file (flow style, one line). */
function cell(v: unknown): string {
  if (v === undefined) return '';
  const text = stringify(v, { collectionStyle: 'flow', lineWidth: 0, flowCollectionPadding: false }).trim();
  const short = text.length > 90 ? `${text.slice(0, 87)}…` : text;
  return `\`${short.replace(/\|/g, '\\|').replace(/`/g, "'")}\``;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The hand-written sections, in file-name order (01-…, 02-…). */
export function notes(): string[] {
  const dir = new URL(`${NOTES_DIR}/`, ROOT);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => readFileSync(new URL(f, dir), 'utf8').trim());
}

export function configMarkdown(keys: readonly KeyDoc[] = configKeys(), extra: readonly string[] = notes()): string {
  const top = keys.filter((k) => !k.path.includes('.') && !k.path.includes('['));
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` from the zod schema (src/config/schema.ts and the section schemas it imports)',
    '     and docs/configuration/*.md. Do not edit: a unit test fails when this file is out of date. -->',
    '',
    'One YAML file (`portcullis serve -c FILE`); relative paths in it are relative to the file. `portcullis config check FILE`',
    'reports every problem at once; `portcullis config schema` prints the JSON Schema for editors. A worked production',
    'configuration is in [examples/production/](../examples/production/), the demo\'s in [examples/demo/](../examples/demo/).',
    'Durations are written `500ms`, `30s`, `15m`, `4h`, or as a number of milliseconds.',
    '',
    '**Sections:** ' + top.map((k) => `[\`${k.path}\`](#${k.path.toLowerCase()})`).join(' · '),
    '',
    '**Guides:** ' + extra.map((n) => /^## (.+)$/m.exec(n)?.[1]).filter((t): t is string => t !== undefined).map((t) => `[${t}](#${anchor(t)})`).join(' · '),
    '',
  ];
  for (const t of top) {
    lines.push(`## ${t.path}`, '', `${t.description}${t.required ? ' **Required.**' : ''}`, '');
    const rows = keys.filter((k) => k === t || k.path.startsWith(`${t.path}.`) || k.path.startsWith(`${t.path}[]`) || k.path.startsWith(`${t.path} (`));
    lines.push('| key | type | default | description | example |', '|---|---|---|---|---|');
    for (const k of rows) {
      const desc = `${escape(k.description)}${k.required && k !== t ? ' **Required.**' : ''}`;
      lines.push(`| \`${k.path}\` | ${k.type} | ${cell(k.default)} | ${desc} | ${k.container ? '' : cell(k.example)} |`);
    }
    lines.push('');
  }
  for (const n of extra) lines.push(n, '');
  return lines.join('\n');
}

function anchor(title: string): string {
  return title.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');
}
