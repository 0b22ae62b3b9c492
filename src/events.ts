// The events seam: every step of a client's life through the gateway is published on a typed
// node:diagnostics_channel. The core publishes and imports no subscriber; the log line, the audit
// trail and the metrics subscribe (src/audit, src/metrics), the way undici's debug log subscribes
// to undici's channels. Publishing is guarded by `hasSubscribers`, so a channel nobody listens to
// costs one property read and no allocation.
//
// Names are stable: add channels and fields, never rename or remove one (the audit store and
// dashboards depend on them).
import { type Channel, channel } from 'node:diagnostics_channel';
import type { AuthScheme } from './vocabulary/claim.js';
import type { Decision } from './vocabulary/decision.js';
import type { Protocol } from './vocabulary/protocols.js';
import type { ReasonCode, UpstreamReason } from './vocabulary/reasons.js';
import type { Zone } from './vocabulary/zones.js';
import type { DeviceRef } from './vocabulary/device.js';

/** A diagnostics channel whose messages have one type. It is the node:diagnostics_channel object itself. */
export interface TypedChannel<T> {
  readonly name: string;
  readonly hasSubscribers: boolean;
  publish(message: T): void;
  subscribe(onMessage: (message: T, name: string | symbol) => void): void;
  unsubscribe(onMessage: (message: T, name: string | symbol) => void): boolean;
}

function typed<T>(name: string): TypedChannel<T> {
  return channel(name) as Channel as unknown as TypedChannel<T>;
}

/** Where a client connection is: the fields every connection-scoped event carries. */
export interface ConnectionRef {
  /** Per-process connection number (with workers, unique together with the worker). */
  readonly connection: number;
  readonly listener: string;
  readonly zone: Zone;
  readonly clientIp: string;
  readonly clientPort: number;
  /** Milliseconds since the epoch, when the event happened. */
  readonly at: number;
}

// ---- connections -------------------------------------------------------------------------------

export interface ConnectionOpenedEvent extends ConnectionRef {
  /** The server name the client asked for in its TLS ClientHello, if any. */
  readonly sni: string | undefined;
  /** e.g. `TLSv1.3`. */
  readonly tlsVersion: string | undefined;
  readonly tlsCipher: string | undefined;
}

/**
 * Why an established client connection ended:
 * - `client-closed`: the client closed or reset the socket (between or during exchanges);
 * - `client-finished`: the client half-closed between exchanges;
 * - `close-requested`: `Connection: close` from the client or Exchange, or an answer that needs it;
 * - `refused`: the gateway answered a request itself (denial, malformed request) and closed;
 * - `idle`: a keep-alive, head or per-protocol idle time-out;
 * - `upstream-closed`, `upstream-failed`: the pinned Exchange connection ended or failed;
 * - `protocol-error`: malformed bytes mid-body from either side;
 * - `access-withdrawn`: revocation, lockout or a re-evaluation after a reload closed it;
 * - `drain`: closed gracefully on shutdown; `drain-timeout`: still busy at the drain deadline;
 * - `gateway-stopping`: stopped without a drain.
 */
export const CLOSE_CAUSES = [
  'client-closed',
  'client-finished',
  'close-requested',
  'refused',
  'idle',
  'upstream-closed',
  'upstream-failed',
  'protocol-error',
  'access-withdrawn',
  'drain',
  'drain-timeout',
  'gateway-stopping',
] as const;
export type CloseCause = (typeof CLOSE_CAUSES)[number];

export interface ConnectionClosedEvent extends ConnectionOpenedEvent {
  readonly cause: CloseCause;
  /** Human-readable detail (e.g. `access withdrawn: revoked`); never a credential. */
  readonly detail: string | undefined;
  /** The proven user (`DOMAIN\sam`, or `kerberos`), else the pending one. */
  readonly user: string | undefined;
  readonly proven: boolean;
  readonly scheme: AuthScheme | undefined;
  /** Protocol of the last request. */
  readonly protocol: Protocol | undefined;
  readonly requests: number;
  /** Bytes read from the client / written to the client (TLS payload). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly durationMs: number;
  /** The pinned upstream connection existed: with the protocol of the request that opened it. */
  readonly pinned: { readonly protocol: Protocol } | undefined;
  /** The ActiveSync device the last request named. */
  readonly device?: DeviceRef | undefined;
}

/**
 * Why a socket ended before it became a client connection (or, for `renegotiation`, was cut
 * after it):
 * - `per-source-limit`, `total-limit`: refused at accept (connections.perSource / .total);
 * - `handshake-timeout`: no completed TLS handshake within connections.handshakeTimeout;
 * - `handshake-failed`: the TLS handshake failed (no shared cipher or version, not TLS at all, …);
 * - `handshake-aborted`: the client closed or reset the socket before the handshake completed;
 * - `renegotiation`: a TLS session attack (repeated renegotiation) on an established connection;
 * - `proxy-untrusted`: a proxyProtocol listener was reached from outside its proxySources;
 * - `proxy-invalid`: no valid PROXY header, or one that names no client address;
 * - `proxy-timeout`: no complete PROXY header within the listener's proxyHeaderTimeout.
 */
export const CONNECTION_END_CAUSES = [
  'per-source-limit',
  'total-limit',
  'handshake-timeout',
  'handshake-failed',
  'handshake-aborted',
  'renegotiation',
  'proxy-untrusted',
  'proxy-invalid',
  'proxy-timeout',
] as const;
export type ConnectionEndCause = (typeof CONNECTION_END_CAUSES)[number];

export interface ConnectionRefusedEvent {
  readonly listener: string;
  readonly remoteAddress: string;
  readonly remotePort?: number | undefined;
  readonly cause: ConnectionEndCause;
  /** The TLS error code for handshake-failed (e.g. ERR_SSL_NO_SHARED_CIPHER). */
  readonly code?: string | undefined;
}

// ---- requests ----------------------------------------------------------------------------------

export interface RequestStartedEvent extends ConnectionRef {
  /** 1 for the connection's first request. */
  readonly request: number;
  readonly method: string;
  /** Canonical path (lower-case, decoded); never the query, which may carry addresses. */
  readonly path: string;
  readonly protocol: Protocol;
  /** The connection's proven user, if any, when the request arrived. */
  readonly user: string | undefined;
  /** The ActiveSync device the query named (DeviceId, DeviceType), either query form. */
  readonly device?: DeviceRef | undefined;
}

export interface RequestEndedEvent extends ConnectionRef {
  readonly request: number;
  /** Empty when the head could not be parsed (a refused malformed request). */
  readonly method: string;
  readonly path: string;
  readonly protocol: Protocol | undefined;
  /** The proven user, else the claimed one (also on a denial before a password was checked). */
  readonly user: string | undefined;
  readonly status: number;
  /** Why it was refused or failed, most important first; empty for a plain answered request. */
  readonly reasons: readonly ReasonCode[];
  /** The gateway answered itself (a refusal or an upstream failure), nothing of Exchange's. */
  readonly refused: boolean;
  /** A refusal the client saw as Exchange's anonymous answer; `reasons` are what it was not told. */
  readonly concealed: boolean;
  /** Detail for the record (e.g. `claimed CONTOSO\mallory`); never sent to a client, never a credential. */
  readonly detail: string | undefined;
  /** The reference id the client was shown (on 401s and refusals). */
  readonly ref: string | undefined;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly durationMs: number;
  /** The ActiveSync device the query named (DeviceId, DeviceType), either query form. */
  readonly device?: DeviceRef | undefined;
}

// ---- decisions and identity --------------------------------------------------------------------

/** Which gate decided: zone blocks, the edge rules, identity + policy, Autodiscover's protocol list, the ActiveSync device policy, browser sign-in. */
export type GateName = 'forwarded-for' | 'zone' | 'edge' | 'access' | 'autodiscover' | 'device' | 'signin';

export interface GateDecisionEvent extends ConnectionRef {
  readonly request: number;
  readonly method: string;
  readonly path: string;
  readonly protocol: Protocol;
  readonly allow: boolean;
  /** The gate whose decision is reported: the refusing one, else the access gate's (or the last). */
  readonly gate: GateName;
  /** With reasons and rule, for allowed requests too (`group-ok`, `rule-allow`, ...). */
  readonly decision: Decision;
  /** Allowed on the wire but a concealed refusal: the decision says why it was refused. */
  readonly concealed: boolean;
  /** The user the decision was about: proven, or claimed by this request. */
  readonly user: string | undefined;
  readonly scheme: AuthScheme | undefined;
  /** The ActiveSync device the query named: the device policy's decision is about it. */
  readonly device?: DeviceRef | undefined;
}

/** How an identity step ended. `bound`: proven by Exchange's answer. */
export const LOGIN_OUTCOMES = ['bound', 'bad-password', 'refused-by-exchange', 'denied', 'unknown-user', 'unknown-domain', 'locked-out', 'attempts-in-flight', 'directory-unavailable', 'identity-mismatch', 'malformed'] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

export interface IdentityEvent extends ConnectionRef {
  /** As the client claimed it (`DOMAIN\user`, a UPN), before the directory confirmed anything. */
  readonly claimedUser: string | undefined;
  /** The directory's key for it (`DOMAIN\sam`), when found; `kerberos` for an opaque ticket. */
  readonly user: string | undefined;
  readonly scheme: AuthScheme;
  readonly outcome: LoginOutcome;
  readonly protocol: Protocol;
  /** Reason codes of a failure (empty when bound). */
  readonly reasons: readonly ReasonCode[];
}

// ---- upstream ----------------------------------------------------------------------------------

export interface UpstreamConnectedEvent extends ConnectionRef {
  /** `host:port` of Exchange. */
  readonly upstream: string;
  /** Protocol of the request that opened the pinned connection. */
  readonly protocol: Protocol;
  readonly connectMs: number;
}

export interface UpstreamFailedEvent extends ConnectionRef {
  readonly upstream: string;
  readonly phase: 'connect' | 'response';
  readonly reason: UpstreamReason;
  /** The socket error code (ECONNREFUSED, ...), if any. */
  readonly code: string | undefined;
  readonly message: string;
  readonly protocol: Protocol | undefined;
}

// ---- user state (admin and smart lockout) ------------------------------------------------------

export interface UserStateEvent {
  readonly at: number;
  /** `DOMAIN\sam` as the admin or the directory named it. */
  readonly user: string;
  /** Who did it: `admin` (with the caller's name when the CLI sent one), `smart-lockout`, `expiry`. */
  readonly actor: string;
}

export interface UserRevokedEvent extends UserStateEvent {
  /** The admin's reason text, kept as given. */
  readonly reason: string;
  readonly until: number | undefined;
  readonly connectionsClosed: number;
}

export interface UserUnrevokedEvent extends UserStateEvent {
  /** A revocation existed. */
  readonly existed: boolean;
}

export interface UserLockedEvent extends UserStateEvent {
  readonly failures: number;
  readonly until: number;
  readonly connectionsClosed: number;
}

export type UserUnlockedEvent = UserStateEvent;

/** An admin forgot a user's second factor (src/signin/second-factor-reset.ts): the user enrols again. */
export interface SecondFactorResetEvent extends UserStateEvent {
  /** An active TOTP secret existed. */
  readonly totp: boolean;
  /** Passkeys forgotten. */
  readonly passkeys: number;
}

/** A user set up a second factor at the gateway's sign-in (the first enrolment, or a passkey). */
export interface SecondFactorEnrolledEvent {
  readonly at: number;
  readonly user: string;
  readonly method: 'totp' | 'passkey';
  /** Where from: the first one to know a password sets up its factor, so the record says who did. */
  readonly clientIp: string;
  readonly zone: string;
}

// ---- configuration -----------------------------------------------------------------------------

/** What started a reload. */
export type ReloadTrigger = 'watch' | 'signal' | 'admin' | 'api';

export interface ConfigReloadedEvent {
  readonly at: number;
  readonly trigger: ReloadTrigger;
  readonly durationMs: number;
  /** Live connections the new state no longer allows, closed. */
  readonly connectionsClosed: number;
}

export interface ReloadRefusedEvent {
  readonly at: number;
  readonly trigger: ReloadTrigger;
  readonly stage: 'config' | 'directory';
  /** `file:line:column: message` lines, as logged. */
  readonly problems: readonly string[];
}

// ---- the admin console ------------------------------------------------------------------------

/** How a console sign-in ended: `signed-in`, or why it was refused. */
export const CONSOLE_SIGN_IN_OUTCOMES = ['signed-in', 'bad-password', 'password-expired', 'unknown-account', 'not-in-group', 'directory-unavailable', 'account-limited', 'address-limited'] as const;
export type ConsoleSignInOutcome = (typeof CONSOLE_SIGN_IN_OUTCOMES)[number];

export interface ConsoleSignInEvent {
  readonly at: number;
  /** The login as typed (a refused one too: it is what an attacker tried). */
  readonly login: string;
  readonly clientIp: string;
  readonly outcome: ConsoleSignInOutcome;
  /** The role granted, when signed in. */
  readonly role: string | undefined;
}

/**
 * An operator's action from the console that has no channel of its own: closing one connection,
 * asking for a reload (the reload itself is on portcullis:config:*). Revoke, unrevoke and unlock
 * are on the user-state channels with the same actor.
 */
export interface AdminActionEvent {
  readonly at: number;
  /** `console:<login>`. */
  readonly actor: string;
  readonly action: 'close-connection' | 'reload';
  /** The user the action was about (the closed connection's), if any. */
  readonly user: string | undefined;
  /** What was acted on and how it went (`connection 12 (worker 2)`, `reloaded`, `refused`). */
  readonly detail: string;
}

// ---- ActiveSync devices -----------------------------------------------------------------------

/**
 * A device's state changed: an operator approved, blocked or removed it (`admin:<login>`,
 * `console:<login>`), the policy recorded a new device in quarantine (`quarantine`) or approved it
 * on its first proven request (`auto-approve`).
 */
export interface DeviceChangedEvent {
  readonly at: number;
  readonly user: string;
  readonly deviceId: string;
  readonly deviceType: string | undefined;
  /** The new state, or `removed`. */
  readonly state: 'approved' | 'quarantined' | 'blocked' | 'removed';
  readonly actor: string;
  /** Live connections of the device closed because of it. */
  readonly connectionsClosed: number;
}

// ---- process lifecycle -------------------------------------------------------------------------

export interface DrainEvent {
  readonly at: number;
  /** `started`: stopped accepting, /readyz 503; `finished`: every connection is gone. */
  readonly phase: 'started' | 'finished';
  readonly connections: number;
  readonly deadlineMs: number;
}

// ---- the audit store's own state (published by src/audit, read by metrics) -----------------------

export interface AuditStoreStateEvent {
  readonly at: number;
  /** Records waiting in memory for the next batch commit. */
  readonly queueDepth: number;
  /** Records in the local spool file (the database was unavailable). */
  readonly spoolRecords: number;
  readonly spoolBytes: number;
  /** Records committed by this batch (0 for a failed one). */
  readonly written: number;
  /** Set when this batch failed. */
  readonly error: string | undefined;
}

/** Every lifecycle channel. */
export const events = {
  connectionOpened: typed<ConnectionOpenedEvent>('portcullis:connection:opened'),
  connectionClosed: typed<ConnectionClosedEvent>('portcullis:connection:closed'),
  connectionRefused: typed<ConnectionRefusedEvent>('portcullis:connection:refused'),
  requestStarted: typed<RequestStartedEvent>('portcullis:request:start'),
  requestEnded: typed<RequestEndedEvent>('portcullis:request:end'),
  gateDecision: typed<GateDecisionEvent>('portcullis:gate:decision'),
  identityBound: typed<IdentityEvent>('portcullis:identity:bound'),
  loginFailed: typed<IdentityEvent>('portcullis:identity:login-failed'),
  upstreamConnected: typed<UpstreamConnectedEvent>('portcullis:upstream:connected'),
  upstreamFailed: typed<UpstreamFailedEvent>('portcullis:upstream:failed'),
  userRevoked: typed<UserRevokedEvent>('portcullis:user:revoked'),
  userUnrevoked: typed<UserUnrevokedEvent>('portcullis:user:unrevoked'),
  userLocked: typed<UserLockedEvent>('portcullis:user:locked'),
  userUnlocked: typed<UserUnlockedEvent>('portcullis:user:unlocked'),
  secondFactorReset: typed<SecondFactorResetEvent>('portcullis:user:second-factor-reset'),
  secondFactorEnrolled: typed<SecondFactorEnrolledEvent>('portcullis:user:second-factor-enrolled'),
  configReloaded: typed<ConfigReloadedEvent>('portcullis:config:reloaded'),
  reloadRefused: typed<ReloadRefusedEvent>('portcullis:config:reload-refused'),
  drain: typed<DrainEvent>('portcullis:gateway:drain'),
  auditStoreState: typed<AuditStoreStateEvent>('portcullis:audit:store-state'),
  consoleSignIn: typed<ConsoleSignInEvent>('portcullis:console:sign-in'),
  adminAction: typed<AdminActionEvent>('portcullis:admin:action'),
  deviceChanged: typed<DeviceChangedEvent>('portcullis:device:changed'),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<N extends EventName> = (typeof events)[N] extends TypedChannel<infer T> ? T : never;

/**
 * Publishes when someone listens; `make` builds the payload only then, so the data path allocates
 * nothing for an unobserved channel.
 */
export function emit<T>(ch: TypedChannel<T>, make: () => T): void {
  if (ch.hasSubscribers) ch.publish(make());
}

/** Subscribes to a channel; returns the unsubscribe function (tests, and subscribers that stop). */
export function on<T>(ch: TypedChannel<T>, fn: (ev: T) => void): () => void {
  const h = (m: T) => fn(m);
  ch.subscribe(h);
  return () => void ch.unsubscribe(h);
}
