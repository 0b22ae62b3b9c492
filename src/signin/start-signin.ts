// Browser sign-in's part of the composition root: the session store beside the state store (the
// same place, so every worker of a host shares it), the sealing key, the logo, and the two gates
// (the pages before the edge gate, the session gate in the access gate's place).
import path from 'node:path';
import type { Logger } from 'pino';
import type { RequestGate } from '../forward/gate.js';
import type { UpstreamConfig } from '../forward/forward-schema.js';
import { events, on } from '../events.js';
import type { UserStateStore } from '../policy/user-states.js';
import { type UpstreamTarget, upstreamTarget } from '../forward/upstream-connect.js';
import type { AccessControl } from '../policy/access-gate.js';
import type { LoginAttempts } from '../policy/login-attempts.js';
import { STATE_SQLITE_FILE, type StateConfig } from '../state/state-schema.js';
import { MemorySessionStore } from './memory-session-store.js';
import type { SecondFactorService } from './second-factor.js';
import { loadSessionKey, sealWithKey } from './session-seal.js';
import { type SessionStore, SessionStoreError } from './session-store.js';
import { PostgresSessionStore } from './postgres-session-store.js';
import { postgresPassword } from '../vocabulary/postgres-connection.js';
import { type SigninDeps, endExchangeSession } from './signin-deps.js';
import { signinGate } from './signin-gate.js';
import { signinPagesGate } from './signin-pages-gate.js';
import type { SigninConfig } from './signin-schema.js';
import { readLogo } from './logo.js';
import { SqliteSessionStore } from './sqlite-session-store.js';

/** Beside the state store, in the same place: one database (or one state.sqlite) holds both. */
export function buildSessionStore(state: StateConfig): SessionStore {
  switch (state.store) {
    case 'memory':
      return new MemorySessionStore();
    case 'sqlite':
      return new SqliteSessionStore(path.join(state.dataDir, STATE_SQLITE_FILE));
    case 'postgres': {
      const pgc = state.postgres!;
      return new PostgresSessionStore({ url: pgc.url, password: postgresPassword(pgc, (m) => new SessionStoreError('postgres', m)) });
    }
  }
}

/** How soon a revocation made elsewhere (the primary, another instance) ends the sessions here. */
const SWEEP_MS = 2_000;

export interface SigninOptions {
  readonly first: SigninConfig;
  /** The running config's section and upstream (a reload changes them). */
  readonly config: () => { readonly signin?: SigninConfig | undefined; readonly upstream: UpstreamConfig };
  readonly state: StateConfig;
  readonly access: AccessControl;
  readonly attempts: LoginAttempts;
  readonly secondFactor: SecondFactorService | undefined;
  /** Revocations in force (this process' mirror or replica): a revoked user's sessions are deleted. */
  readonly users: Pick<UserStateStore, 'revocations'>;
  readonly log: Logger;
}

export interface Signin {
  readonly deps: SigninDeps;
  /** The gates in order: the pages before the edge gate, the session gate in the access gate's place, then `after`. */
  gates(edge: RequestGate, after: readonly RequestGate[]): RequestGate[];
  stop(): Promise<void>;
}

/** Opens the session store and the key; throws with one line when either cannot be had. */
export async function startSignin(o: SigninOptions): Promise<Signin> {
  const sessions = buildSessionStore(o.state);
  await sessions.open();
  const seal = sealWithKey(loadSessionKey(o.first.keyFile!));
  let target: { cfg: UpstreamConfig; target: UpstreamTarget } | undefined;
  let logo: { file: string | undefined; logo: { type: string; bytes: Buffer } | undefined } | undefined;
  const deps: SigninDeps = {
    config: () => o.config().signin,
    access: o.access,
    attempts: o.attempts,
    upstream: () => {
      const cfg = o.config().upstream;
      if (target?.cfg !== cfg) target = { cfg, target: upstreamTarget(cfg) };
      return target.target;
    },
    sessions,
    seal,
    secondFactor: o.secondFactor,
    logo: () => {
      const file = o.config().signin?.logo;
      if (logo?.file !== file) {
        const r = file ? readLogo(file) : undefined;
        if (r && !r.ok) o.log.warn(r.problem);
        logo = { file, logo: r?.ok ? r.logo : undefined };
      }
      return logo?.logo;
    },
    log: o.log,
  };
  // Ended sessions leave the store even when their browser never comes back.
  const prune = setInterval(() => {
    const cfg = o.config().signin;
    const now = Date.now();
    if (cfg) void sessions.prune(now - cfg.idleTimeout, now - cfg.absoluteTimeout).catch((e: unknown) => o.log.warn({ err: (e as Error).message }, 'pruning browser sessions failed'));
  }, 60_000);
  prune.unref();
  // A revocation ends the user's sessions for good, not only at their next request: lifted before
  // that request, it must not bring an old session back. Revokes made here are heard at once;
  // those of the primary or of another instance reach this process' revocations within SWEEP_MS.
  const swept = new Set<string>();
  const endSessionsOf = (key: string, at: number) => {
    const id = `${key.toLowerCase()}|${at}`;
    if (swept.has(id)) return;
    swept.add(id);
    void sessions.deleteUser(key).then(
      async (ended) => {
        if (ended.length > 0) o.log.info({ user: key, sessions: ended.length }, 'browser sessions of a revoked user ended');
        // Exchange's sessions behind them too; the Host a browser used is not kept, Exchange's own name serves.
        const host = new URL(o.config().upstream.url).host;
        for (const s of ended) await endExchangeSession(deps, s, host, 'revoked');
      },
      (e: unknown) => {
        swept.delete(id);
        o.log.warn({ user: key, err: (e as Error).message }, 'ending the browser sessions of a revoked user failed; retried');
      },
    );
  };
  const offRevoked = on(events.userRevoked, (e) => endSessionsOf(e.user, e.at));
  const sweep = setInterval(() => {
    for (const r of o.users.revocations()) endSessionsOf(r.key, r.at);
  }, SWEEP_MS);
  sweep.unref();
  o.log.info({ store: sessions.describe, secondFactor: o.secondFactor !== undefined }, 'browser sign-in ready');
  return {
    deps,
    gates: (edge, after) => [signinPagesGate(deps), edge, signinGate(deps, o.access), ...after],
    async stop() {
      clearInterval(prune);
      clearInterval(sweep);
      offRevoked();
      await sessions.close();
    },
  };
}
