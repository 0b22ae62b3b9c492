// Password checks by LDAP bind (preauth: ldap). A success is remembered for a few minutes under
// a salted HMAC, never the password itself, so a user's next connections cost the DC nothing;
// concurrent checks of the same user and password share one bind.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Coalescer } from './coalesce.js';

/** `expired`: the right password, expired or to be changed at next logon (AD tells it only to the right password). */
export type PasswordOutcome = 'ok' | 'bad-password' | 'expired' | 'unavailable';

export class PasswordChecks {
  private readonly key = randomBytes(32);
  private readonly proven = new Map<string, { salt: Buffer; mac: Buffer; until: number }>();
  private readonly inflight = new Coalescer<string, PasswordOutcome>();
  hits = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async check(userKey: string, password: string, bind: () => Promise<PasswordOutcome>): Promise<PasswordOutcome> {
    const cached = this.proven.get(userKey);
    if (cached && cached.until > this.now()) {
      const mac = createHmac('sha256', this.key).update(cached.salt).update(password).digest();
      if (timingSafeEqual(mac, cached.mac)) {
        this.hits++;
        return 'ok';
      }
    }
    const flight = `${userKey}\0${createHmac('sha256', this.key).update(password).digest('base64')}`;
    return this.inflight.run(flight, async () => {
      const r = await bind();
      if (r === 'ok') {
        const salt = randomBytes(16);
        this.proven.set(userKey, { salt, mac: createHmac('sha256', this.key).update(salt).update(password).digest(), until: this.now() + this.ttlMs });
      } else if (r === 'bad-password') {
        this.proven.delete(userKey);
      }
      return r;
    });
  }

  /** Forgets expired proofs. */
  sweep(): void {
    const now = this.now();
    for (const [k, v] of this.proven) if (v.until <= now) this.proven.delete(k);
  }
}
