// The files a configuration names, checked on disk. They are found in the raw YAML value, not the
// validated config, so that they are checked even when the schema has problems elsewhere: an
// admin fixes every problem of a file in one pass.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileErrorWords } from '../yaml/file-errors.js';
import type { Problem } from '../yaml/yaml-source.js';
import { readLogo } from '../signin/logo.js';
import { readBearerKeys } from '../identity/bearer-keys.js';

type Place = (at: ReadonlyArray<PropertyKey>, message: string, missingFile?: string) => Problem;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const get = (v: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Reads a file the config names; a problem at `at` when it cannot. */
function read(file: string, at: ReadonlyArray<PropertyKey>, what: string, place: Place, problems: Problem[]): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (e) {
    const words = fileErrorWords(e);
    problems.push(place(at, `${what} ${file}: ${words ?? (e as Error).message}`, words === 'not found' ? file : undefined));
    return undefined;
  }
}

function exists(file: string, at: ReadonlyArray<PropertyKey>, what: string, place: Place, problems: Problem[]): void {
  try {
    if (statSync(file).isDirectory()) problems.push(place(at, `${what} ${file}: is a directory, not a file`));
  } catch (e) {
    const words = fileErrorWords(e);
    problems.push(place(at, `${what} ${file}: ${words ?? (e as Error).message}`, words === 'not found' ? file : undefined));
  }
}

/** Every file problem in a config's raw value; relative paths are resolved against `base`. */
export function fileProblems(raw: unknown, base: string, place: Place): Problem[] {
  const problems: Problem[] = [];
  const abs = (p: string) => path.resolve(base, p);
  list(get(raw, 'listeners')).forEach((l, li) => {
    list(get(l, 'tls', 'certificates')).forEach((c, ci) => {
      const at = ['listeners', li, 'tls', 'certificates', ci];
      const certFile = str(get(c, 'cert'));
      const keyFile = str(get(c, 'key'));
      let x509: X509Certificate | undefined;
      const certPem = certFile ? read(abs(certFile), [...at, 'cert'], 'certificate', place, problems) : undefined;
      if (certPem) {
        try {
          x509 = new X509Certificate(certPem);
        } catch (e) {
          problems.push(place([...at, 'cert'], `certificate ${abs(certFile!)} is not a PEM certificate (${(e as Error).message})`));
        }
      }
      const keyPem = keyFile ? read(abs(keyFile), [...at, 'key'], 'private key', place, problems) : undefined;
      if (keyPem) {
        try {
          const key = createPrivateKey(keyPem);
          if (x509 && !x509.checkPrivateKey(key)) problems.push(place([...at, 'key'], `private key ${abs(keyFile!)} does not match the certificate ${abs(certFile!)}`));
        } catch (e) {
          problems.push(place([...at, 'key'], `private key ${abs(keyFile!)} is not a PEM private key (${(e as Error).message})`));
        }
      }
    });
  });
  const upstreamCa = str(get(raw, 'upstream', 'tls', 'ca'));
  if (upstreamCa) exists(abs(upstreamCa), ['upstream', 'tls', 'ca'], 'CA file', place, problems);
  const d = get(raw, 'directory');
  const provider = get(d, 'provider');
  const dirFile = str(get(d, 'file'));
  if (provider === 'file' && dirFile) exists(abs(dirFile), ['directory', 'file'], 'directory file', place, problems);
  if (provider === 'ldap') {
    const pw = str(get(d, 'bindPasswordFile'));
    if (pw) exists(abs(pw), ['directory', 'bindPasswordFile'], 'password file', place, problems);
    const ca = str(get(d, 'ca'));
    if (ca) exists(abs(ca), ['directory', 'ca'], 'CA file', place, problems);
  }
  // Bearer keys: read and parsed as the runtime will, so a broken JWKS is a config problem, not a failed start.
  for (const k of ['jwksFile', 'pemFile'] as const) {
    const f = str(get(raw, 'identity', 'bearer', k));
    if (!f) continue;
    const r = readBearerKeys({ [k]: abs(f) });
    if (!r.ok) problems.push(place(['identity', 'bearer', k], r.problem, r.problem.endsWith(': not found') ? abs(f) : undefined));
  }
  // The sign-in page's logo: an image of a kind the page can serve, and not too large.
  const logo = str(get(raw, 'signin', 'logo'));
  if (logo) {
    const r = readLogo(abs(logo));
    if (!r.ok) problems.push(place(['signin', 'logo'], r.problem, r.problem.endsWith(': not found') ? abs(logo) : undefined));
  }
  return problems;
}
