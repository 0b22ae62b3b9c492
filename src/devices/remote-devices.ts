// A worker's side of the device policy: a replica of the primary's mirror, read synchronously by
// the device gate, and admissions of unknown devices asked of the primary (the instance's
// DeviceAuthority) over IPC. An unanswered admission fails closed: the device is refused.
import type { AdmitRule, DeviceRecord } from '../state/device-store.js';
import type { DeviceRef } from '../vocabulary/device.js';
import type { DeviceAdmissions } from './device-gate.js';
import { DeviceRegistry } from './device-registry.js';

export interface DeviceAdmitRequest {
  readonly id: number;
  readonly user: string;
  readonly device: DeviceRef;
  readonly rule: AdmitRule;
}

export class RemoteDevices implements DeviceAdmissions {
  readonly registry = new DeviceRegistry();
  private nextId = 1;
  private readonly waiting = new Map<number, (r: DeviceRecord | undefined) => void>();

  constructor(
    private readonly send: (m: DeviceAdmitRequest) => void,
    private readonly timeoutMs = 5_000,
  ) {}

  admitNew(user: string, device: DeviceRef, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const known = this.registry.get(user, device.id);
    if (known) return Promise.resolve(known);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      const done = (r: DeviceRecord | undefined) => {
        clearTimeout(timer);
        if (this.waiting.delete(id)) resolve(r);
      };
      this.waiting.set(id, done);
      this.send({ id, user, device, rule });
    });
  }

  /** The primary's answer to admission `id` (its change reaches the replica as a broadcast too). */
  answered(id: number, record: DeviceRecord | null): void {
    if (record) this.registry.apply({ kind: 'put', record });
    this.waiting.get(id)?.(record ?? undefined);
  }
}
