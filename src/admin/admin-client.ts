// The CLI side of the admin endpoint (`portcullis revoke`, `policy explain --admin`): where the
// endpoint is and which token to send. With -c the config's admin section says both (the token
// from admin.tokenFile, the very file the gateway generated); without it, --admin and the
// PORTCULLIS_ADMIN_TOKEN environment variable. Only the admin section is read, so an emergency
// revoke works even for a user who cannot read the TLS keys the rest of the config names.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { adminSchema } from './admin-schema.js';
import { formatProblem, readYaml } from '../yaml/yaml-source.js';
import { parseToken } from './admin-token.js';
import { fileErrorText } from '../yaml/file-errors.js';
import { CliError } from '../cli/cli-error.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090';
export const TOKEN_ENV = 'PORTCULLIS_ADMIN_TOKEN';

export interface AdminTarget {
  readonly url: string;
  readonly token: string | undefined;
  /**
   * With admin.tls read from the config (-c): the PEM of the certificate file the gateway serves.
   * The client trusts exactly that certificate, whoever issued it and whatever names it holds (the
   * CLI connects to 127.0.0.1, which a certificate for the console's name rarely carries).
   */
  readonly pinnedCert?: string;
}

/** The URL a client on this host reaches an admin listener at. */
function urlOf(address: string, port: number, scheme: 'http' | 'https'): string {
  const a = address.replace(/^\[(.*)\]$/, '$1');
  const host = a === '0.0.0.0' ? '127.0.0.1' : a.includes(':') ? (/^[0:]+$/.test(a) ? '[::1]' : `[${a}]`) : a;
  return `${scheme}://${host}:${port}`;
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
  const parsed = adminSchema.safeParse(raw);
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
  const pinnedCert = admin.tls ? readPem(path.resolve(path.dirname(file), admin.tls.cert)) : undefined;
  return { url: o.url ?? urlOf(admin.address, admin.port, admin.tls ? 'https' : 'http'), token: t.value, ...(pinnedCert ? { pinnedCert } : {}) };
}

function readPem(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read admin.tls.cert ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): the CLI trusts the admin endpoint's certificate from that file`);
  }
}

/** One admin request (JSON in, JSON out); a failure becomes an Error saying what to do. */
export async function adminRequest(target: AdminTarget, p: string, body?: unknown): Promise<unknown> {
  let res: { status: number; ok: boolean; text(): Promise<string> };
  const init = {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(target.token ? { Authorization: `Bearer ${target.token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
  try {
    res = target.pinnedCert && target.url.startsWith('https:') ? await pinnedRequest(target.url + p, init, target.pinnedCert) : await fetch(target.url + p, init);
  } catch (e) {
    if (e instanceof CliError) throw e;
    const cause = (e as { cause?: { code?: string; message?: string } }).cause ?? (e as { code?: string; message?: string });
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

/** An HTTPS request that accepts exactly the certificate in `pem` (its first certificate). */
function pinnedRequest(url: string, init: { method: string; headers: Record<string, string>; body?: string }, pem: string): Promise<{ status: number; ok: boolean; text(): Promise<string> }> {
  let expected: string;
  try {
    expected = new X509Certificate(pem).fingerprint256;
  } catch (e) {
    return Promise.reject(new CliError(`admin.tls.cert holds no usable certificate (${(e as Error).message})`));
  }
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: init.method,
        headers: init.headers,
        // The certificate file is the trust anchor (partial chain: it needs no root), and the
        // identity check compares certificates instead of names.
        ca: pem,
        allowPartialTrustChain: true,
        checkServerIdentity: (_host, cert) => (cert.fingerprint256 === expected ? undefined : new Error(`the admin endpoint's certificate is not the one in admin.tls.cert (${cert.fingerprint256})`)),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, text: async () => Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => reject(e.message.includes('admin.tls.cert') ? new CliError(e.message) : e));
    req.end(init.body);
  });
}
