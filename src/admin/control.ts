// What the admin endpoint acts on. One process (`workers: 1`) answers from its own gateway; a
// worker pool's primary answers by asking every worker (src/cli/serve-primary.ts). The admin
// routes are the same either way.
import type { Protocol } from '../vocabulary/protocols.js';
import type { Zone } from '../vocabulary/zones.js';
import type { Claim, LookupResult } from '../directory/provider.js';
import type { ClientConnection } from '../forward/client-connection.js';
import type { Gateway } from '../listen/gateway.js';
import type { AccessControl } from '../policy/access-gate.js';
import type { Decision } from '../policy/decision.js';
import type { Revocation, UserStateStore } from '../policy/user-states.js';
import { events } from '../events.js';
import type { Readiness } from '../health/readiness.js';
import type { DeviceRecord } from '../state/device-store.js';

/** Puts an admin's change of a user's state on the record; the control calls it once it is done. */
export const recordUserState = {
  revoked(r: Revocation, actor: string, closed: number): void {
    if (events.userRevoked.hasSubscribers) events.userRevoked.publish({ at: r.at, user: r.key, actor, reason: r.reason, until: r.until, connectionsClosed: closed });
  },
  unrevoked(user: string, actor: string, existed: boolean): void {
    if (events.userUnrevoked.hasSubscribers) events.userUnrevoked.publish({ at: Date.now(), user, actor, existed });
  },
  unlocked(user: string, actor: string): void {
    if (events.userUnlocked.hasSubscribers) events.userUnlocked.publish({ at: Date.now(), user, actor });
  },
};

export interface ConnectionView {
  readonly id: number;
  /** The worker process holding the connection (absent with one process). */
  readonly worker?: number;
  readonly user: string | undefined;
  readonly proven: boolean;
  readonly zone: Zone;
  readonly protocol: string | undefined;
  readonly client: string;
  readonly openedAt: string;
  readonly requests: number;
  /** Bytes read from / written to the client so far (TLS payload). */
  readonly bytesIn?: number;
  readonly bytesOut?: number;
  /** The ActiveSync device the requests named (DeviceId, DeviceType). */
  readonly device?: { readonly id: string; readonly type: string | undefined };
  /** The request in flight: method, canonical path, command (EAS Cmd, MAPI X-RequestType), since. */
  readonly current?: { readonly method: string; readonly path: string; readonly command: string | undefined; readonly startedAt: string };
}

/** One gateway process' counters (connection caps, handshake time-outs, refusals by cause). */
export type ProcessStats = ReturnType<Gateway['stats']> & { readonly worker?: number };

/** A metrics exposition and its content type (the admin endpoint serves it as it is). */
export interface Exposition {
  readonly contentType: string;
  readonly text: string;
}

export interface Control {
  connections(): Promise<ConnectionView[]>;
  /** Per gateway process: one entry, or one per worker. */
  stats(): Promise<ProcessStats[]>;
  /**
   * Revokes and closes the user's live connections; resolves with how many were closed. `actor`
   * (who asked) and the reason text go on the record (portcullis:user:revoked).
   */
  revoke(key: string, reason: string, forMs: number | undefined, actor: string): Promise<{ revocation: Revocation; closed: number }>;
  unrevoke(key: string, actor: string): Promise<boolean>;
  unlock(key: string, actor: string): Promise<void>;
  reload(): Promise<boolean>;
  readonly users: Pick<UserStateStore, 'revocations' | 'lockouts' | 'isRevoked' | 'isLockedOut'>;
  /** What /readyz reports. */
  readonly readiness: Readiness;
  /** The Prometheus exposition of every gateway process; undefined when metrics are off. */
  readonly metrics: (() => Promise<Exposition>) | undefined;
  lookup(claim: Claim): Promise<LookupResult>;
  /**
   * Closes one connection (the console's "close"); false when it is gone. `actor` goes on the
   * record (portcullis:admin:action). Absent where the control cannot reach connections one by one.
   */
  closeConnection?(id: number, worker: number | undefined, actor: string): Promise<boolean>;
  evaluate(user: LookupResult & { status: 'found' }, protocol: Protocol, ctx: { zone: Zone; remoteAddress: string }): Decision;
  /** ActiveSync devices (absent where no device authority runs in this process). */
  readonly devices?: DeviceControl;
}

/**
 * An operator's device actions: each is written to the device store, reaches every worker and
 * instance, closes the device's live connections it no longer allows, and goes on the record with
 * its actor (portcullis:device:changed).
 */
export interface DeviceControl {
  list(): Promise<DeviceRecord[]>;
  set(user: string, id: string, type: string | undefined, state: 'approved' | 'blocked', actor: string): Promise<{ record: DeviceRecord; closed: number }>;
  remove(user: string, id: string, actor: string): Promise<{ removed: DeviceRecord | undefined; closed: number }>;
}

function userOf(id: ClientConnection['identity']): string | undefined {
  return id?.entry?.key ?? (id?.kind === 'kerberos' ? 'kerberos' : undefined);
}

export function viewOf(c: ClientConnection, worker?: number): ConnectionView {
  return {
    id: c.id,
    ...(worker !== undefined ? { worker } : {}),
    user: userOf(c.identity ?? c.pending),
    // A pending user is claimed by the request in flight (an RPC channel) and allowed, not yet proven.
    proven: c.identity !== undefined,
    zone: c.zone,
    protocol: c.lastProtocol,
    client: c.remoteAddress,
    openedAt: new Date(c.openedAt).toISOString(),
    requests: c.requests,
    bytesIn: c.bytesFromClient,
    bytesOut: c.bytesToClient,
    ...(c.device ? { device: c.device } : {}),
    ...(c.current ? { current: { method: c.current.method, path: c.current.path, command: c.command, startedAt: new Date(c.current.startedAt).toISOString() } } : {}),
  };
}

/** Who changes a user's state: the instance's authority (src/state), which writes the state store. */
export interface UserStateChanger {
  readonly users: UserStateStore;
  revoke(key: string, reason: string, forMs: number | undefined): Promise<Revocation>;
  unrevoke(key: string): Promise<boolean>;
  unlock(key: string): Promise<void>;
}

/** Changes kept only in this process' memory (a runtime given its user states by its caller). */
export function memoryChanger(users: UserStateStore): UserStateChanger {
  return { users, revoke: async (k, r, f) => users.revoke(k, r, f), unrevoke: async (k) => users.unrevoke(k), unlock: async (k) => users.unlock(k) };
}

/** Puts a console action without a channel of its own on the record. */
export function recordAdminAction(actor: string, action: 'close-connection' | 'reload', user: string | undefined, detail: string): void {
  if (events.adminAction.hasSubscribers) events.adminAction.publish({ at: Date.now(), actor, action, user, detail });
}

/** An operator closes one connection of this process (by its id), on the record with their name. */
export function closeConnectionIn(connections: Iterable<ClientConnection>, id: number, actor: string): boolean {
  for (const c of connections) {
    if (c.id !== id) continue;
    const user = userOf(c.identity ?? c.pending);
    c.close('access-withdrawn', `closed by ${actor}`);
    recordAdminAction(actor, 'close-connection', user, `connection ${id} from ${c.remoteAddress} (${c.lastProtocol ?? 'no request yet'})`);
    return true;
  }
  return false;
}

/** The single-process control: this process' gateway, access gate and user states. */
export function localControl(gateway: Gateway, access: AccessControl, changer: UserStateChanger, reload: () => Promise<boolean>, readiness: Readiness, metrics: Control['metrics'], devices?: Omit<DeviceControl, 'list'> & { list(): DeviceRecord[] }): Control {
  return {
    ...(devices ? { devices: { list: async () => devices.list(), set: (u, i, t, st, a) => devices.set(u, i, t, st, a), remove: (u, i, a) => devices.remove(u, i, a) } } : {}),
    readiness,
    metrics,
    connections: async () => [...gateway.connections].map((c) => viewOf(c)),
    stats: async () => [gateway.stats()],
    async revoke(key, reason, forMs, actor) {
      const revocation = await changer.revoke(key, reason, forMs);
      const closed = await access.reevaluate(gateway.connections);
      recordUserState.revoked(revocation, actor, closed);
      return { revocation, closed };
    },
    async unrevoke(key, actor) {
      const existed = await changer.unrevoke(key);
      recordUserState.unrevoked(key, actor, existed);
      return existed;
    },
    async unlock(key, actor) {
      await changer.unlock(key);
      recordUserState.unlocked(key, actor);
    },
    reload,
    users: changer.users,
    closeConnection: async (id, _worker, actor) => closeConnectionIn(gateway.connections, id, actor),
    lookup: (claim) => access.state().directory.lookup(claim),
    evaluate: (r, protocol, ctx) => access.evaluate({ kind: 'user', entry: r.entry }, protocol, ctx),
  };
}
