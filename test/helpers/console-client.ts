// A console client for tests: signs in like a browser (the sign-in form's CSRF cookie, then the
// session cookie) and reads the page's CSRF token, on the admin listener's real socket.
import { hashPassword } from '../../src/admin/console/password-hash.js';
import { RawClient } from '../../src/doctor/http-probe.js';

export const CONSOLE_PASSWORDS = { operator: 'operator-test-pw', viewer: 'viewer-test-pw' } as const;

/** admin.console for a test config: one operator, one viewer, a low sign-in limit. */
export async function consoleSection(perAccount = 3): Promise<Record<string, unknown>> {
  return {
    accounts: [
      { login: 'operator', role: 'operator', passwordHash: await hashPassword(CONSOLE_PASSWORDS.operator) },
      { login: 'viewer', role: 'viewer', passwordHash: await hashPassword(CONSOLE_PASSWORDS.viewer) },
    ],
    signInLimit: { perAccount, perAddress: 50, window: '15m' },
  };
}

export interface SignedIn {
  readonly cookie: string;
  readonly csrf: string;
  get(path: string): Promise<Response>;
  post(path: string, form: Record<string, string>, o?: { csrf?: string | null }): Promise<Response>;
}

/** Posts the sign-in form; the response (303 on success). */
export async function postSignIn(admin: string, login: string, password: string, cookies: readonly string[] = []): Promise<Response> {
  const form = await fetch(`${admin}/console/sign-in`);
  const pre = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  return fetch(`${admin}/console/sign-in`, { method: 'POST', redirect: 'manual', headers: { Cookie: [pre, ...cookies].join('; '), 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, login, password }) });
}

export async function signIn(admin: string, login: 'operator' | 'viewer'): Promise<SignedIn> {
  const r = await postSignIn(admin, login, CONSOLE_PASSWORDS[login]);
  if (r.status !== 303) throw new Error(`sign-in of ${login}: ${r.status}`);
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('portcullis_console='))!.split(';')[0]!;
  const home = await (await fetch(`${admin}/console/`, { headers: { Cookie: cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(home)![1]!;
  return {
    cookie,
    csrf,
    get: (path) => fetch(`${admin}${path}`, { headers: { Cookie: cookie }, redirect: 'manual' }),
    post: (path, form, o = {}) =>
      fetch(`${admin}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'HX-Request': 'true', ...(o.csrf === null ? {} : { 'X-CSRF-Token': o.csrf ?? csrf }) },
        body: new URLSearchParams(form),
      }),
  };
}

const basic = (u: string, p = 'Passw0rd!') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const mapi = (type: string, cookie?: string) =>
  `Authorization: ${basic('LAB\\bob')}\r\nContent-Type: application/mapi-http\r\nX-RequestType: ${type}\r\nX-RequestId: {E2EA6C1C-E61B-49E9-9CFB-38184F907552}:1\r\nX-ClientInfo: {2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}:1\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}`;

/** bob's NotificationWait, held open by the lab. */
export async function bobsNotificationWait(port: number, ca: string): Promise<RawClient> {
  const c = await RawClient.connect(port, ca);
  c.write(`POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: x\r\n${mapi('Connect')}Content-Length: 4\r\n\r\nabcd`);
  const connect = await c.read('POST');
  const cookie = connect.head.headers.filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value.split(';')[0]).join('; ');
  c.write(`POST /mapi/emsmdb/?MailboxId=x@lab.example HTTP/1.1\r\nHost: x\r\n${mapi('NotificationWait', cookie)}Content-Length: 8\r\n\r\n${'\0'.repeat(8)}`);
  await new Promise((r) => setTimeout(r, 200));
  return c;
}

