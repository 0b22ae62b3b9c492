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
    if (record) return this.refuse(req, verdict, this.detail(user, device, verdict));
    return this.unknown(ctx, req, cfg, user, device);
  }

  /** A device the mirror does not know, in allow-list or quarantine mode. */
  private unknown(ctx: ConnectionContext, req: GateRequest, cfg: DevicesConfig, user: string, device: DeviceRef): GateVerdict | Promise<GateVerdict> {
    const rule: AdmitRule = { autoApprove: cfg.autoApprove, maxPending: cfg.mode === 'quarantine' ? cfg.maxPending : 0 };
    const refusal = cfg.mode === 'quarantine' ? 'device-quarantined' : 'device-not-allowed';
    // Proven on this connection: the store decides now (auto-approval, quarantine or nothing).
    if (ctx.identity?.entry?.key === user) {
      return this.devices.admitNew(user, device, rule).then(
        (r) => {
          const v = judgeDevice(cfg.mode, r);
          return v === 'allow' ? ALLOW : this.refuse(req, r ? v : refusal, this.detail(user, device, r ? v : refusal));
        },
        () => this.refuse(req, refusal, `${this.detail(user, device, refusal)}; the device store could not record it`),
      );
    }
    const u = user.toLowerCase();
    const approving = this.#approving.get(u) ?? new Set<string>();
    const key = device.id.toLowerCase();
    const free = this.devices.registry.count(user, 'approved') + approving.size - (approving.has(key) ? 1 : 0) < cfg.autoApprove;
    if (free) return this.forwardForApproval(ctx, u, approving, key, user, device, rule);
    // Recorded (quarantine mode) so an operator sees it, whatever the password: the number of such
    // records per user is capped (maxPending), so a password guesser cannot fill the store.
    const recorded = rule.maxPending > 0 ? this.devices.admitNew(user, device, { autoApprove: 0, maxPending: rule.maxPending }).catch(() => undefined) : Promise.resolve(undefined);
    return recorded.then((r) => {
      const v = r ? judgeDevice(cfg.mode, r) : refusal;
      return v === 'allow' ? ALLOW : this.refuse(req, v, this.detail(user, device, v));
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

  private detail(user: string, device: DeviceRef, why: DeviceReason): string {
    const what = why === 'device-blocked' ? 'is blocked' : why === 'device-quarantined' ? 'waits for approval (portcullis devices approve)' : 'is not on the allow-list';
    return `device ${deviceText(device)} of ${user} ${what}`;
  }

  private refuse(req: GateRequest, reason: DeviceReason, detail: string): GateVerdict {
    // 403: final for a device ([MS-ASHTTP]); a 401 would make it ask for the password again and again.
    return { allow: false, ...refusalFor(req.protocol, 403, { reasons: [reason] }, detail) };
  }
}
