// Failed console sign-ins, counted per account and per client address in a sliding window: at
// the limit, further attempts are refused without checking the password until the oldest failure
// leaves the window. A success clears the account's failures (not the address's: a sprayer who
// knows one password must not reset the count for every other account).

export interface LimiterSettings {
  readonly perAccount: number;
  readonly perAddress: number;
  readonly windowMs: number;
}

export class SignInLimiter {
  private readonly accounts = new Map<string, number[]>();
  private readonly addresses = new Map<string, number[]>();

  constructor(
    private readonly s: LimiterSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why an attempt is refused before its password is looked at, or undefined. */
  blocked(login: string, address: string): 'account-limited' | 'address-limited' | undefined {
    if (this.recent(this.accounts, login.toLowerCase()).length >= this.s.perAccount) return 'account-limited';
    if (this.recent(this.addresses, address).length >= this.s.perAddress) return 'address-limited';
    return undefined;
  }

  failed(login: string, address: string): void {
    const t = this.now();
    this.recent(this.accounts, login.toLowerCase()).push(t);
    this.recent(this.addresses, address).push(t);
    if (this.accounts.size + this.addresses.size > 10_000) this.sweep();
  }

  succeeded(login: string): void {
    this.accounts.delete(login.toLowerCase());
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
    for (const m of [this.accounts, this.addresses]) for (const [k, l] of m) if (!l.length || l.at(-1)! <= from) m.delete(k);
  }
}
