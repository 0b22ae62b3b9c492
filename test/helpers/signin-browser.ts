// A minimal browser for the sign-in tests: a cookie jar, one TLS connection per request (the
// gateway closes after every page it answers itself), no redirects followed unless asked.
import { RawClient } from '../../src/doctor/http-probe.js';
import type { SecondFactorService } from '../../src/signin/second-factor.js';

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

/**
 * A stand-in for the second factor's service in tests only (the real one: issue15-twofa): one
 * TOTP secret per user, codes are `code(step)`, each accepted once.
 */
export class SecondFactorDouble implements SecondFactorService {
  readonly enrolled = new Set<string>();
  readonly pending = new Set<string>();
  readonly used = new Set<string>();
  /** The code the double accepts now. */
  current = '123456';

  async enrolment(userKey: string) {
    return { totp: this.enrolled.has(userKey), passkeys: [] };
  }
  async startTotp(userKey: string, account: string, issuer: string) {
    this.pending.add(userKey);
    return { secret: 'JBSWY3DPEHPK3PXP', otpauthUri: `otpauth://totp/${issuer}:${account}?secret=JBSWY3DPEHPK3PXP`, qrSvg: '<svg xmlns="http://www.w3.org/2000/svg"/>' };
  }
  async confirmTotp(userKey: string, code: string) {
    if (!this.pending.has(userKey)) return 'no-pending' as const;
    if (code !== this.current) return 'bad-code' as const;
    this.pending.delete(userKey);
    this.enrolled.add(userKey);
    this.used.add(`${userKey}|${code}`);
    return 'ok' as const;
  }
  async verifyTotp(userKey: string, code: string) {
    if (!this.enrolled.has(userKey)) return 'not-enrolled' as const;
    if (code !== this.current) return 'bad-code' as const;
    if (this.used.has(`${userKey}|${code}`)) return 'replayed' as const;
    this.used.add(`${userKey}|${code}`);
    return 'ok' as const;
  }
  async passkeyRegistrationOptions(): Promise<never> {
    throw new Error('passkeys are not part of this double');
  }
  async verifyPasskeyRegistration() {
    return 'failed' as const;
  }
  async passkeyAuthenticationOptions() {
    return undefined;
  }
  async verifyPasskeyAuthentication() {
    return 'failed' as const;
  }
  async reset(userKey: string) {
    const totp = this.enrolled.delete(userKey);
    return { totp, passkeys: 0 };
  }
  async close() {}
}
