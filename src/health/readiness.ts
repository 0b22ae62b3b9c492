// Readiness for load balancers: /readyz answers 200 only when every registered check passes, and
// names each check's cause either way. The gateway registers its own (upstream reachable,
// directory answering or within its grace period); other parts register theirs (the audit store:
// writable or spooling) through `register`, without the health endpoint knowing them. Draining
// (SIGTERM) turns it 503 at once, before any check runs.

export interface CheckResult {
  readonly ok: boolean;
  /** Why: always for a failure; for a pass that is degraded (grace period, spooling). */
  readonly cause?: string | undefined;
}

export type ReadinessCheck = () => CheckResult | Promise<CheckResult>;

export interface ReadinessReport {
  readonly ready: boolean;
  readonly draining: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/** A check that does not answer within this counts as failed (a hung probe must not hang /readyz). */
const CHECK_TIMEOUT_MS = 2_000;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private drainingSince: number | undefined;

  /** Adds a named check; returns the function that removes it. A name registered twice is replaced. */
  register(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  /** Shutting down: not ready from now on, whatever the checks say. */
  startDraining(): void {
    this.drainingSince ??= Date.now();
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  async report(): Promise<ReadinessReport> {
    const names = [...this.checks.keys()];
    const results = await Promise.all(names.map((n) => runCheck(this.checks.get(n)!)));
    const checks: Record<string, CheckResult> = {};
    names.forEach((n, i) => (checks[n] = results[i]!));
    if (this.draining) checks['draining'] = { ok: false, cause: 'the gateway is shutting down (SIGTERM): finishing exchanges in flight' };
    return { ready: Object.values(checks).every((c) => c.ok), draining: this.draining, checks };
  }
}

async function runCheck(check: ReadinessCheck): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((resolve) => (timer = setTimeout(() => resolve({ ok: false, cause: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS))),
    ]);
  } catch (e) {
    return { ok: false, cause: (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
