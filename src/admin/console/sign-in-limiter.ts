// Failed console sign-ins, counted in a sliding window: at a limit, further attempts are refused
// without checking the password until the oldest failure leaves the window. Limits, as the
// gateway's smart lockout keeps an attacker from locking a user out:
// - per account and client address (`perAccount`): a guesser at one address is stopped there;
// - per account over every address the account has not signed in from before (`perAccount` × 5):
//   guessing spread over many addresses is bounded, but the real operator, at an address where
//   the account signed in within `familiarFor`, is not locked out by failures made elsewhere;
// - per client address over every account (`perAddress`): a spray.
// A success clears that account's failures at that address (not the address's: a sprayer who
// knows one password must not reset the count for every other account).

export interface LimiterSettings {
  readonly perAccount: number;
  readonly perAddress: number;
  readonly windowMs: number;
}

/** How long an address where an account signed in stays familiar to it (kept in memory). */
const FAMILIAR_MS = 30 * 24 * 3600_000;
/** Failures of one account from unfamiliar addresses together, in units of perAccount. */
const UNFAMILIAR_FACTOR = 5;
const MAX_KEYS = 10_000;

export class SignInLimiter {
  private readonly accountAtAddress = new Map<string, number[]>();
  private readonly accounts = new Map<string, number[]>();
  private readonly addresses = new Map<string, number[]>();
  /** `account\naddress` → last successful sign-in there. */
  private readonly familiar = new Map<string, number>();

  constructor(
    private readonly s: LimiterSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why an attempt is refused before its password is looked at, or undefined. */
  blocked(login: string, address: string): 'account-limited' | 'address-limited' | undefined {
    const account = login.toLowerCase();
    const here = `${account}\n${address}`;
    if (this.recent(this.accountAtAddress, here).length >= this.s.perAccount) return 'account-limited';
    if (!this.isFamiliar(here) && this.recent(this.accounts, account).length >= this.s.perAccount * UNFAMILIAR_FACTOR) return 'account-limited';
    if (this.recent(this.addresses, address).length >= this.s.perAddress) return 'address-limited';
    return undefined;
  }

  failed(login: string, address: string): void {
    const t = this.now();
    const account = login.toLowerCase();
    const here = `${account}\n${address}`;
    this.recent(this.accountAtAddress, here).push(t);
    if (!this.isFamiliar(here)) this.recent(this.accounts, account).push(t);
    this.recent(this.addresses, address).push(t);
    if (this.accountAtAddress.size + this.accounts.size + this.addresses.size > MAX_KEYS) this.sweep();
  }

  succeeded(login: string, address: string): void {
    const here = `${login.toLowerCase()}\n${address}`;
    this.accountAtAddress.delete(here);
    this.familiar.delete(here);
    this.familiar.set(here, this.now());
    // Oldest first (Map order): an attacker who signs in from many addresses cannot grow it without bound.
    while (this.familiar.size > MAX_KEYS) this.familiar.delete(this.familiar.keys().next().value!);
  }

  private isFamiliar(here: string): boolean {
    const at = this.familiar.get(here);
    return at !== undefined && this.now() - at < FAMILIAR_MS;
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
    for (const m of [this.accountAtAddress, this.accounts, this.addresses]) for (const [k, l] of m) if (!l.length || l.at(-1)! <= from) m.delete(k);
  }
}
