// Where browser sessions live, so that a browser's next connection may reach any worker process
// or gateway instance: every request of a session reads it here. Implementations: memory (tests,
// `state.store: memory`), SQLite (own tables in state.sqlite) and PostgreSQL (several instances),
// run through one contract (test/contracts/session-store.ts).

/** `second-factor`: the password was right, the second factor is still owed; nothing reaches Exchange. */
export type SessionStage = 'second-factor' | 'signed-in';

export interface SigninSession {
  /** SHA-256 of the cookie's value (base64url): the store never holds a cookie a thief could use. */
  readonly id: string;
  /** The directory key (`LAB\alice`): revocation, lockout and policy use it. */
  readonly userKey: string;
  /** What the user typed, for the record. */
  readonly claimed: string;
  readonly stage: SessionStage;
  /** A second factor was given for this session. */
  readonly secondFactor: boolean;
  /** What the gateway keeps of Exchange's (cookie jar, or the password for Basic vdirs), sealed (session-seal.ts). */
  readonly exchange: string;
  /** Where the browser goes once signed in (a path on this host). */
  readonly destination: string;
  /** Token of this session's own forms (second factor, sign-out): CSRF protection. */
  readonly csrf: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Wrong second-factor codes given in this session. */
  readonly failures: number;
}

export interface SessionStore {
  /** For logs and errors: a file path, or `memory`. */
  readonly describe: string;
  /** Creates or upgrades its tables. */
  open(): Promise<void>;
  /** Inserts, or replaces the session with the same id. */
  put(s: SigninSession): Promise<void>;
  get(id: string): Promise<SigninSession | undefined>;
  /** True when the session existed. */
  delete(id: string): Promise<boolean>;
  /** Records use at `at` (idle time-out), and a new sealed Exchange part when Exchange renewed its cookies. */
  touch(id: string, at: number, exchange?: string): Promise<void>;
  /** Counts one wrong second-factor code; returns the new count (0 when the session is gone). */
  addFailure(id: string): Promise<number>;
  /** Every session of a user ends (a revocation); returns them (their Exchange sessions end too). */
  deleteUser(userKey: string): Promise<SigninSession[]>;
  /** Removes sessions idle since before `idleBefore` or created before `createdBefore`. */
  prune(idleBefore: number, createdBefore: number): Promise<number>;
  close(): Promise<void>;
}

export class SessionStoreError extends Error {
  constructor(store: string, message: string) {
    super(`session store ${store}: ${message}`);
    this.name = 'SessionStoreError';
  }
}

/** A row of either store's sessions table (the same columns; SQLite keeps the flag as 0/1). */
export function sessionOfRow(r: Readonly<Record<string, unknown>>): SigninSession {
  return {
    id: String(r['id']),
    userKey: String(r['user_key']),
    claimed: String(r['claimed']),
    stage: String(r['stage']) as SessionStage,
    secondFactor: r['second_factor'] === true || Number(r['second_factor']) === 1,
    exchange: String(r['exchange']),
    destination: String(r['destination']),
    csrf: String(r['csrf']),
    createdAt: Number(r['created_at']),
    lastSeenAt: Number(r['last_seen_at']),
    failures: Number(r['failures']),
  };
}
