// A minimal browser for the sign-in tests: a cookie jar, one TLS connection per request (the
// gateway closes after every page it answers itself), no redirects followed unless asked.
import { RawClient } from '../../src/doctor/http-probe.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { generateKeyFile } from '../../src/signin/secret-box.js';

export interface Answer {
  readonly status: number;
  readonly headers: ReadonlyArray<{ name: string; value: string }>;
  readonly body: string;
  header(name: string): string | undefined;
  setCookies(): string[];
}

export class TestBrowser {
  readonly jar = new Map<string, string>();
  /** Every answer this browser got, for "never in any answer" checks. */
  readonly answers: Answer[] = [];

  constructor(
    private readonly port: number,
    private readonly ca: string,
  ) {}

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method: string, path: string, o: { form?: Record<string, string>; json?: unknown; headers?: Record<string, string>; client?: RawClient } = {}): Promise<Answer> {
    const c = o.client ?? (await RawClient.connect(this.port, this.ca));
    try {
      const body = o.form ? new URLSearchParams(o.form).toString() : o.json !== undefined ? JSON.stringify(o.json) : undefined;
      const headers: Record<string, string> = { ...(this.jar.size ? { Cookie: this.cookieHeader() } : {}), ...(o.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...(o.json !== undefined ? { 'Content-Type': 'application/json' } : {}), ...o.headers };
      const r = await c.request(method, path, headers, body);
      const a: Answer = {
        status: r.head.status,
        headers: r.head.headers,
        body: r.body.toString('utf8'),
        header: (n) => r.header(n),
        setCookies: () => r.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value),
      };
      for (const sc of a.setCookies()) {
        const pair = sc.split(';')[0]!;
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq);
        const value = pair.slice(eq + 1);
        if (value === '' || /max-age=0/i.test(sc)) this.jar.delete(name);
        else this.jar.set(name, value);
      }
      this.answers.push(a);
      return a;
    } finally {
      if (!o.client) c.close();
    }
  }

  /** The sign-in page's form token. */
  static csrfOf(a: Answer): string {
    const m = /name="csrf" value="([^"]+)"/.exec(a.body);
    if (!m) throw new Error(`no form token in: ${a.body.slice(0, 300)}`);
    return m[1]!;
  }

  /** Opens the sign-in page and posts the form; returns the POST's answer. */
  async signIn(username: string, password: string, destination = '/owa/'): Promise<Answer> {
    const page = await this.request('GET', `/owa/auth/portcullis/signin?destination=${encodeURIComponent(destination)}`);
    return this.request('POST', '/owa/auth/portcullis/signin', { form: { csrf: TestBrowser.csrfOf(page), destination, username, password } });
  }
}

/** The code an authenticator app shows for the key a second-factor page displays (`ahead` seconds later). */
export async function totpCode(page: string, ahead = 0): Promise<string> {
  const m = /id="totp-secret">([A-Z2-7]+)</.exec(page);
  if (!m) throw new Error(`no TOTP key on the page: ${page.slice(0, 300)}`);
  return generate({ secret: m[1]!, epoch: Math.floor(Date.now() / 1000) + ahead });
}

/** A signin.secondFactor section with a key of its own, written for this test (mode 0600). */
export function secondFactorSection(): { keyFile: string } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'portcullis-2fa-')), 'second-factor.key');
  generateKeyFile(file);
  return { keyFile: file };
}
