// The console's device cookie: after a successful sign-in the browser gets a long-lived cookie that
// names a random device id, bound to the account by an HMAC under a key of this process. A later
// sign-in of that account from that browser is "familiar": its failures count apart, and failures
// of anyone else (a local user on the same loopback address) cannot lock it out. The cookie grants
// nothing else: it is no session and no password. A restart makes every device unfamiliar again.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEVICE_COOKIE = 'portcullis_console_device';
const MAX_AGE_S = 30 * 24 * 3600;

export class SignInDevices {
  private readonly key = randomBytes(32);

  private mac(login: string, id: string): Buffer {
    return createHmac('sha256', this.key).update(`${login.toLowerCase()}\n${id}`).digest();
  }

  /** The device id the cookie value proves for `login`, or undefined. */
  verify(value: string | undefined, login: string): string | undefined {
    const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (!m) return undefined;
    const got = Buffer.from(m[2]!, 'base64url');
    const want = this.mac(login, m[1]!);
    return got.length === want.length && timingSafeEqual(got, want) ? m[1] : undefined;
  }

  /** The Set-Cookie value for `login` on this browser (its device id kept when it has one). */
  cookie(login: string, id: string | undefined, secure: boolean): string {
    const device = id ?? randomBytes(16).toString('base64url');
    return `${DEVICE_COOKIE}=${device}.${this.mac(login, device).toString('base64url')}; Path=/console/; Max-Age=${MAX_AGE_S}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  }
}
