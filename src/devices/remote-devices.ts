// A worker's side of the device policy: a replica of the primary's mirror, read synchronously by
// the device gate, and admissions of unknown devices asked of the primary (the instance's
// DeviceAuthority) over IPC. An admission the primary could not record, or did not answer, is a
// rejection (as the store's own failure is in one process): the device is refused.
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
  private readonly waiting = new Map<number, (r: DeviceRecord | undefined | Error) => void>();

  constructor(
    private readonly send: (m: DeviceAdmitRequest) => void,
    private readonly timeoutMs = 5_000,
  ) {}

  admitNew(user: string, device: DeviceRef, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const known = this.registry.get(user, device.id);
    if (known) return Promise.resolve(known);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('the primary did not answer a device admission')), this.timeoutMs);
      const done = (r: DeviceRecord | undefined | Error) => {
        clearTimeout(timer);
        if (!this.waiting.delete(id)) return;
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
      this.waiting.set(id, done);
      this.send({ id, user, device, rule });
    });
  }

  /** The primary's answer to admission `id` (its change reaches the replica as a broadcast too). */
  answered(id: number, record: DeviceRecord | null, failed = false): void {
    if (record) this.registry.apply({ kind: 'put', record });
    this.waiting.get(id)?.(failed ? new Error('the device store could not record the device') : (record ?? undefined));
  }
}
