// Failed console sign-ins, counted in a sliding window: at a limit, further attempts are refused
// without checking the password until the oldest failure leaves the window. The limits keep a
// guesser slow without letting it lock the operator out (an outside attack did, from the same
// loopback address the operator uses, so an address cannot tell them apart):
// - a browser where the account signed in before carries a device cookie for it (sign-in-device.ts);
//   its failures count apart (`perAccount` per device), and nobody else's failures stop it;
// - everyone else: per account and client address (`perAccount`), per account over every address
//   (`perAccount` × 5, guessing spread over many addresses), and per address over every account
//   (`perAddress`, a spray).
// A success clears that account's failures on that device or at that address (not the address's:
// a sprayer who knows one password must not reset the count for every other account).

export interface LimiterSettings {
  readonly perAccount: number;
  readonly perAddress: number;
  readonly windowMs: number;
}

/** Failures of one account from browsers it never signed in from, together, in units of perAccount. */
const UNKNOWN_FACTOR = 5;
const MAX_KEYS = 10_000;

export class SignInLimiter {
  private readonly onDevice = new Map<string, number[]>();
  private readonly accountAtAddress = new Map<string, number[]>();
  private readonly accounts = new Map<string, number[]>();
  private readonly addresses = new Map<string, number[]>();

  constructor(
    private readonly s: LimiterSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Why an attempt is refused before its password is looked at, or undefined. `device`: the id of a
   * device cookie this browser holds for this very account (verified by the caller).
   */
  blocked(login: string, address: string, device?: string): 'account-limited' | 'address-limited' | undefined {
    const account = login.toLowerCase();
    if (device !== undefined) return this.recent(this.onDevice, `${account}\n${device}`).length >= this.s.perAccount ? 'account-limited' : undefined;
    if (this.recent(this.accountAtAddress, `${account}\n${address}`).length >= this.s.perAccount) return 'account-limited';
    if (this.recent(this.accounts, account).length >= this.s.perAccount * UNKNOWN_FACTOR) return 'account-limited';
    if (this.recent(this.addresses, address).length >= this.s.perAddress) return 'address-limited';
    return undefined;
  }

  failed(login: string, address: string, device?: string): void {
    const t = this.now();
    const account = login.toLowerCase();
    if (device !== undefined) this.recent(this.onDevice, `${account}\n${device}`).push(t);
    else {
      this.recent(this.accountAtAddress, `${account}\n${address}`).push(t);
      this.recent(this.accounts, account).push(t);
      this.recent(this.addresses, address).push(t);
    }
    if (this.onDevice.size + this.accountAtAddress.size + this.accounts.size + this.addresses.size > MAX_KEYS) this.sweep();
  }

  succeeded(login: string, address: string, device?: string): void {
    const account = login.toLowerCase();
    this.accountAtAddress.delete(`${account}\n${address}`);
    if (device !== undefined) this.onDevice.delete(`${account}\n${device}`);
  }

  private recent(m: Map<string, number[]>, key: string): number[] {
    const from = this.now() - this.s.windowMs;
    let l = m.get(key);
    if (!l) m.set(key, (l = []));
    while (l.length && l[0]! <= from) l.shift();
    return l;
  }

  private sweep(): void {
    const from = this.now() - this.s.windowMs;
    for (const m of [this.onDevice, this.accountAtAddress, this.accounts, this.addresses]) for (const [k, l] of m) if (!l.length || l.at(-1)! <= from) m.delete(k);
  }
}
