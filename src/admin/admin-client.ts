// The CLI side of the admin endpoint (`portcullis revoke`, `policy explain --admin`): where the
// endpoint is and which token to send. With -c the config's admin section says both (the token
// from admin.tokenFile, the very file the gateway generated); without it, --admin and the
// PORTCULLIS_ADMIN_TOKEN environment variable. Only the admin section is read, so an emergency
// revoke works even for a user who cannot read the TLS keys the rest of the config names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema } from '../config/schema.js';
import { formatProblem, readYaml } from '../config/yaml-source.js';
import { parseToken } from './admin-token.js';
import { fileErrorText } from '../config/file-errors.js';
import { CliError } from '../cli/cli-error.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090';
export const TOKEN_ENV = 'PORTCULLIS_ADMIN_TOKEN';

export interface AdminTarget {
  readonly url: string;
  readonly token: string | undefined;
}

/** The URL a client on this host reaches an admin listener at. */
function urlOf(address: string, port: number): string {
  const a = address.replace(/^\[(.*)\]$/, '$1');
  const host = a === '0.0.0.0' ? '127.0.0.1' : a.includes(':') ? (/^[0:]+$/.test(a) ? '[::1]' : `[${a}]`) : a;
  return `http://${host}:${port}`;
}

/** Endpoint and token: from the config (`-c`) when given, else `--admin` and PORTCULLIS_ADMIN_TOKEN. */
export function adminTarget(o: { readonly url?: string | undefined; readonly config?: string | undefined }, env: NodeJS.ProcessEnv = process.env): AdminTarget {
  if (o.url !== undefined && !/^https?:\/\/[^/]+\/?$/.test(o.url)) throw new CliError(`--admin must be the endpoint's base URL, such as http://127.0.0.1:9090, not "${o.url}"`);
  if (o.url !== undefined) o = { ...o, url: o.url.replace(/\/$/, '') };
  if (!o.config) return { url: o.url ?? DEFAULT_ADMIN_URL, token: env[TOKEN_ENV]?.trim() || undefined };
  const file = path.resolve(o.config);
  let src;
  try {
    src = readYaml(file);
  } catch (e) {
    throw new CliError(fileErrorText(e, file) ?? `cannot read ${file}: ${(e as Error).message}`);
  }
  if (src.syntaxProblems.length > 0) throw new CliError(formatProblem(src.syntaxProblems[0]!));
  const raw = (src.doc.toJS() as Record<string, unknown> | null)?.['admin'];
  const parsed = configSchema.shape.admin.safeParse(raw);
  if (!parsed.success) throw new CliError(`${file}: admin: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  const admin = parsed.data;
  if (!admin) throw new CliError(`${file} has no admin section: that gateway runs no admin endpoint`);
  if (!o.url && admin.port === 0) throw new CliError(`admin.port is 0 in ${file} (chosen at start): pass --admin http://127.0.0.1:<port> from the "admin endpoint listening" log line`);
  const tokenFile = path.resolve(path.dirname(file), admin.tokenFile);
  let text: string;
  try {
    text = readFileSync(tokenFile, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new CliError(
      code === 'ENOENT'
        ? `no admin token in ${tokenFile} yet: the gateway writes it at its first start`
        : `cannot read the admin token file ${tokenFile} (${code}): run this as the gateway's user, or pass the token in ${TOKEN_ENV} without -c`,
    );
  }
  const t = parseToken(tokenFile, text);
  if (!t.ok) throw new CliError(t.error);
  return { url: o.url ?? urlOf(admin.address, admin.port), token: t.value };
}

/** One admin request (JSON in, JSON out); a failure becomes an Error saying what to do. */
export async function adminRequest(target: AdminTarget, p: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(target.url + p, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(target.token ? { Authorization: `Bearer ${target.token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach the admin endpoint at ${target.url} (${cause?.code ?? cause?.message ?? (e as Error).message}): is the gateway running? Start it with portcullis serve -c <config>, or point at its endpoint with -c <config> or --admin <url>`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    json = text;
  }
  if (res.status === 401) {
    throw new CliError(
      `401 from ${target.url}: ${target.token ? 'the admin token was refused' : 'no admin token given'}; ` +
        `pass -c <gateway config> (reads admin.tokenFile) or set ${TOKEN_ENV}`,
    );
  }
  const error = typeof json === 'object' && json !== null && typeof (json as Record<string, unknown>)['error'] === 'string' ? String((json as Record<string, unknown>)['error']) : undefined;
  if (!res.ok) throw new CliError(error ?? `the admin endpoint answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}
