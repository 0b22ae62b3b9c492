// Where ActiveSync device approvals, blocks and quarantined devices are kept, so that every worker
// and every gateway instance judges a device the same way and a restart forgets none (issue 15).
// Three implementations share one contract (test/contracts/device-store.ts): memory (tests),
// SQLite (its own table in state.sqlite; one host) and PostgreSQL (several instances, with
// LISTEN/NOTIFY). The gateway never reads a store on a request's path: the DeviceAuthority keeps a
// mirror (src/devices/device-registry.ts) that the device gate reads synchronously, and goes to the
// store only to change something or to record a device it has not seen before.

/** `approved`: may sync; `quarantined`: seen, waiting for an operator; `blocked`: refused in every mode. */
export const DEVICE_STATES = ['approved', 'quarantined', 'blocked'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export interface DeviceRecord {
  /** The user as the directory spells the key (`LAB\alice`); compared case-insensitively. */
  readonly user: string;
  /** DeviceId as first recorded; compared case-insensitively (activesync-query.ts deviceKey). */
  readonly id: string;
  /** DeviceType, when known (an operator may approve an id before the device ever connected). */
  readonly type: string | undefined;
  readonly state: DeviceState;
  /** When the row was made and when its state last changed (ms since the epoch). */
  readonly firstSeen: number;
  readonly changedAt: number;
  /** Who set the state: `admin:<login>`, `console:<login>`, `auto-approve`, `quarantine`. */
  readonly actor: string;
}

/** What a device seen for the first time may become (DeviceStore.admitNew). */
export interface AdmitRule {
  /** Approve it when the user has fewer approved devices than this (0: never). */
  readonly autoApprove: number;
  /** Record it as quarantined when the user has fewer quarantined devices than this (0: never). */
  readonly maxPending: number;
}

/** What another instance changed (PostgreSQL only). */
export type DeviceChange =
  | { readonly kind: 'put'; readonly record: DeviceRecord }
  | { readonly kind: 'remove'; readonly user: string; readonly id: string }
  /** The connection to the shared store was lost and is back: changes may have been missed. */
  | { readonly kind: 'resync'; readonly records: readonly DeviceRecord[] };

export interface DeviceStore {
  /** For logs and errors: a file path, or host:port/db without credentials. */
  readonly describe: string;
  /** True when other instances share it (changes arrive through `watch`). */
  readonly shared: boolean;
  /** Creates or upgrades the table, then reads every row. */
  open(): Promise<DeviceRecord[]>;
  list(): Promise<DeviceRecord[]>;
  /** An operator's approval or block: the row is made or its state, type and actor replaced (firstSeen kept). */
  put(record: DeviceRecord): Promise<DeviceRecord>;
  /** Forgets the device (it is new again); the row that existed, if any. */
  remove(user: string, id: string): Promise<DeviceRecord | undefined>;
  /**
   * A device the mirror did not know: atomically across every instance sharing the store, the row
   * that exists is returned unchanged; otherwise it is made approved (auto-approval, while the user
   * has fewer approved devices than the rule allows) or quarantined (while the user has fewer
   * waiting than the rule allows), or nothing is made and undefined is returned.
   */
  admitNew(user: string, id: string, type: string, now: number, rule: AdmitRule): Promise<DeviceRecord | undefined>;
  /** Hears every change another instance makes, and `resync` after a lost connection. */
  watch(listener: (c: DeviceChange) => void): void;
  close(): Promise<void>;
}

/** A store failure worth one line: which store and what went wrong, never a stack trace. */
export class DeviceStoreError extends Error {
  constructor(store: string, message: string) {
    super(`device store ${store}: ${message}`);
    this.name = 'DeviceStoreError';
  }
}

/** The one key a row is found by: user and device id, both lower-cased. */
export function deviceRowKey(user: string, id: string): string {
  return `${user.toLowerCase()}\u0000${id.toLowerCase()}`;
}
