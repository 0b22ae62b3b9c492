// The device gate: after the access gate, judges the ActiveSync device an allowed request names
// (request-admission.ts parsed it from the query the request is forwarded with, so the device
// judged is the device Exchange sees). Known devices are judged from the mirror without waiting;
// only a device the mirror does not know goes to the store (to be recorded in quarantine, or
// auto-approved). A device is tied to the user the access gate let through: a refusal that strips
// the credentials reaches Exchange as an anonymous request, and is no device's.
import type { ConnectionContext } from '../forward/connection-context.js';
import type { GateRequest, GateVerdict, RequestGate } from '../forward/gate.js';
import { refusalFor } from '../forward/refusals.js';
import { headerValue } from '../http/headers.js';
import { parseAuthorization } from '../identity/credentials.js';
import type { DeviceRef } from '../vocabulary/device.js';
import { deviceText } from '../vocabulary/device.js';
import type { DeviceReason } from '../vocabulary/reasons.js';
import type { AdmitRule, DeviceRecord } from '../state/device-store.js';
import type { DeviceRegistry } from './device-registry.js';
import type { DeviceMode, DevicesConfig } from './devices-schema.js';
import type { CredentialProbe } from './credential-probe.js';

/** What the gate needs of the instance's authority (in a worker: its primary, over IPC). */
export interface DeviceAdmissions {
  readonly registry: DeviceRegistry;
  /** Records a device the mirror does not know (DeviceStore.admitNew) and applies the result. */
  admitNew(user: string, device: DeviceRef, rule: AdmitRule): Promise<DeviceRecord | undefined>;
}

/** How a device stands for a request: allowed, or the reason it is refused. */
export function judgeDevice(mode: DeviceMode, record: DeviceRecord | undefined): 'allow' | DeviceReason {
  if (record?.state === 'blocked') return 'device-blocked';
  if (mode === 'any' || record?.state === 'approved') return 'allow';
  if (record?.state === 'quarantined' || mode === 'quarantine') return 'device-quarantined';
  return 'device-not-allowed';
}

const ALLOW: GateVerdict = { allow: true };

export class DeviceGate implements RequestGate {
  readonly name = 'device' as const;
  /** Unknown devices forwarded to be auto-approved on proof, per lower-cased user (bounds the race). */
  readonly #approving = new Map<string, Set<string>>();

  constructor(
    private readonly config: () => DevicesConfig,
    private readonly devices: DeviceAdmissions,
    /** Exchange's check of a Basic password before a device is refused to it (absent: refused unchecked). */
    private readonly probe?: CredentialProbe,
  ) {}

  check(ctx: ConnectionContext, req: GateRequest, earlier: readonly GateVerdict[]): GateVerdict | Promise<GateVerdict> {
    const device = req.device;
    if (req.protocol !== 'eas' || !device) return ALLOW;
    const cfg = this.config();
    // Exchange gets this request without credentials: whatever it answers, no device syncs.
    if (earlier.some((v) => v.allow && v.stripAuthorization)) return ALLOW;
    const id = ctx.identity ?? ctx.pending;
    const user = id?.entry?.key;
    if (!user) {
      // No credentials, or a handshake leg that names nobody (NTLM NEGOTIATE): Exchange answers
      // 401 or a challenge, and the leg that names the user is judged with its device.
      const kind = cfg.mode === 'any' || id ? undefined : parseAuthorization(headerValue(req.head.headers, 'authorization')).kind;
      if (cfg.mode === 'any' || kind === 'none' || kind === 'ntlm-start' || kind === 'negotiate-empty') return ALLOW;
      // Credentials that name no directory user (a Kerberos ticket): no device of theirs can be approved.
      return this.refuse(req, 'device-not-allowed', `${deviceText(device)}: the credentials name no directory user`);
    }
    const record = this.devices.registry.get(user, device.id);
    const verdict = judgeDevice(cfg.mode, record);
    if (verdict === 'allow') return ALLOW;
    if (ctx.identity?.entry?.key === user) return this.proven(req, cfg, user, device, record);
    if (!record) {
      const u = user.toLowerCase();
      const approving = this.#approving.get(u) ?? new Set<string>();
      const key = device.id.toLowerCase();
      const free = this.devices.registry.count(user, 'approved') + approving.size - (approving.has(key) ? 1 : 0) < cfg.autoApprove;
      if (free) return this.forwardForApproval(ctx, u, approving, key, user, device, this.rule(cfg));
    }
    return this.proveFirst(ctx, req, earlier, cfg, user, device, verdict);
  }

  private rule(cfg: DevicesConfig): AdmitRule {
    return { autoApprove: cfg.autoApprove, maxPending: cfg.mode === 'quarantine' ? cfg.maxPending : 0 };
  }

  /**
   * The password is proven on this connection: a known device is refused as it stands; an unknown
   * one goes to the store, which decides now (auto-approval, quarantine or nothing).
   */
  private proven(req: GateRequest, cfg: DevicesConfig, user: string, device: DeviceRef, record: DeviceRecord | undefined): GateVerdict | Promise<GateVerdict> {
    if (record) {
      const v = judgeDevice(cfg.mode, record);
      return v === 'allow' ? ALLOW : this.refuse(req, v, this.detail(user, device, v));
    }
    const refusal = cfg.mode === 'quarantine' ? 'device-quarantined' : 'device-not-allowed';
    return this.devices.admitNew(user, device, this.rule(cfg)).then(
      (r) => {
        const v = judgeDevice(cfg.mode, r);
        return v === 'allow' ? ALLOW : this.refuse(req, r ? v : refusal, this.detail(user, device, r ? v : refusal));
      },
      () => this.refuse(req, refusal, `${this.detail(user, device, refusal)}; the device store could not record it`),
    );
  }

  /**
   * A device that may not sync, named with credentials not yet proven on this connection: Exchange
   * checks the Basic password first (credential-probe.ts), and the access gate's verdict judges its
   * answer as it judges any (proof binds the identity, a 401 counts for the smart lockout). Only the
   * password's owner then hears of the device (403, and the device is recorded); a wrong password
   * reaches Exchange without its credentials and gets Exchange's own 401, as for a user who does
   * not exist, so the device gate tells a guesser nothing and records nothing for it.
   */
  private proveFirst(ctx: ConnectionContext, req: GateRequest, earlier: readonly GateVerdict[], cfg: DevicesConfig, user: string, device: DeviceRef, why: DeviceReason): GateVerdict | Promise<GateVerdict> {
    const authorization = headerValue(req.head.headers, 'authorization');
    const access = earlier.find((v): v is Extract<GateVerdict, { allow: true }> => v.allow && v.decision !== undefined && v.onResponse !== undefined);
    // NTLM proves itself only on its own connection: its AUTHENTICATE cannot be checked apart from
    // the command it carries. So it goes on as an anonymous request: Exchange's 401, the answer of a
    // user who does not exist; the access gate lets go of the attempt (no guess reached Exchange).
    const kind = authorization === undefined ? undefined : parseAuthorization(authorization).kind;
    if (access?.withdraw && kind === 'ntlm-auth') {
      access.withdraw();
      return { allow: true, stripAuthorization: true, concealed: { reasons: [why], detail: `${this.detail(user, device, why)}; NTLM cannot be checked apart from its command, so it went on without credentials` } };
    }
    // A Bearer token the gateway verified is its user's own proof: told as it stands.
    if (!this.probe || !access || authorization === undefined || kind !== 'basic') return this.unchecked(req, cfg, user, device, why);
    const probe = this.probe;
    return probe(authorization, headerValue(req.head.headers, 'host') ?? '').then((head): GateVerdict | Promise<GateVerdict> => {
      if (head?.status === 401) {
        return { allow: true, stripAuthorization: true, concealed: { reasons: ['bad-password', why], detail: `${this.detail(user, device, why)}; Exchange refused the password, so the device was not judged` } };
      }
      if (head && head.status >= 200 && head.status < 300) access.onResponse!(head);
      if (ctx.identity?.entry?.key === user) return this.proven(req, cfg, user, device, this.devices.registry.get(user, device.id));
      // Exchange could not be asked, or its answer proved nothing: the command goes on without its
      // credentials, so the client gets what anyone gets from Exchange now (an outside attack told
      // users apart by a 503 of the gateway's own while Exchange was down).
      access.withdraw?.();
      return { allow: true, stripAuthorization: true, concealed: { reasons: [why], detail: `${this.detail(user, device, why)}; Exchange could not check the password (${head ? `OPTIONS answered ${head.status}` : 'no answer'}), so it went on without credentials` } };
    });
  }

  /**
   * A free auto-approval: the request goes to Exchange, and the device is approved only when
   * Exchange accepts its password (an approval is never given to a guess). Devices of one user
   * forwarded at once count against the free approvals, so a burst cannot take more of them.
   */
  private forwardForApproval(ctx: ConnectionContext, u: string, approving: Set<string>, key: string, user: string, device: DeviceRef, rule: AdmitRule): GateVerdict {
    approving.add(key);
    this.#approving.set(u, approving);
    let done = false;
    let admitting = false;
    const release = () => {
      if (done) return;
      done = true;
      approving.delete(key);
      if (approving.size === 0 && this.#approving.get(u) === approving) this.#approving.delete(u);
    };
    return {
      allow: true,
      onResponse: (h) => {
        // The access gate's onResponse ran first: a 2xx answer bound the identity it proved.
        if (h.status >= 200 && h.status < 300 && ctx.identity?.entry?.key === user) {
          admitting = true;
          // Not recorded (the store is unreachable): the device keeps its place among the free
          // approvals, so an outage cannot let more than autoApprove unapproved devices sync.
          void this.devices.admitNew(user, device, rule).then(release, () => {});
        } else release();
        return { pass: true };
      },
      // Refused by a later gate, or cut before Exchange answered: the approval is free again.
      onSettled: () => {
        if (!admitting) release();
      },
    };
  }

  /**
   * Refused without a password check (a verified Bearer token, or no way to ask Exchange). An unknown device is
   * recorded in quarantine mode so an operator sees it; the records per user are capped
   * (maxPending), so a guesser cannot fill the store.
   */
  private unchecked(req: GateRequest, cfg: DevicesConfig, user: string, device: DeviceRef, why: DeviceReason): GateVerdict | Promise<GateVerdict> {
    const maxPending = this.rule(cfg).maxPending;
    if (this.devices.registry.get(user, device.id) || maxPending === 0) return this.refuse(req, why, this.detail(user, device, why));
    return this.devices
      .admitNew(user, device, { autoApprove: 0, maxPending })
      .catch(() => undefined)
      .then((r) => {
        const v = r ? judgeDevice(cfg.mode, r) : why;
        return v === 'allow' ? ALLOW : this.refuse(req, v, this.detail(user, device, v));
      });
  }

  private detail(user: string, device: DeviceRef, why: DeviceReason): string {
    const what = why === 'device-blocked' ? 'is blocked' : why === 'device-quarantined' ? 'waits for approval (portcullis devices approve)' : 'is not on the allow-list';
    return `device ${deviceText(device)} of ${user} ${what}`;
  }

  private refuse(req: GateRequest, reason: DeviceReason, detail: string): GateVerdict {
    // 403: final for a device ([MS-ASHTTP]); a 401 would make it ask for the password again and again.
    return { allow: false, ...refusalFor(req.protocol, 403, { reasons: [reason] }, detail) };
  }
}
