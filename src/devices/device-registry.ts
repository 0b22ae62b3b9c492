// The device policy's mirror of the DeviceStore: what the device gate reads synchronously on every
// ActiveSync request (no store read on a request's path). The instance's DeviceAuthority fills it
// from the store and applies every change; a worker's copy is filled by its primary.
import { type DeviceChange, type DeviceRecord, type DeviceState, deviceRowKey } from '../state/device-store.js';

export class DeviceRegistry {
  readonly #rows = new Map<string, DeviceRecord>();
  /** Row keys per lower-cased user: counting a user's devices does not scan everyone's. */
  readonly #byUser = new Map<string, Set<string>>();

  get(user: string, id: string): DeviceRecord | undefined {
    return this.#rows.get(deviceRowKey(user, id));
  }

  /** How many of the user's devices are in `state`. */
  count(user: string, state: DeviceState): number {
    let n = 0;
    for (const k of this.#byUser.get(user.toLowerCase()) ?? []) if (this.#rows.get(k)?.state === state) n++;
    return n;
  }

  list(): DeviceRecord[] {
    return [...this.#rows.values()];
  }

  /** Applies a change the authority made or heard of. */
  apply(c: DeviceChange): void {
    switch (c.kind) {
      case 'put':
        return this.#put(c.record);
      case 'remove':
        return this.#remove(c.user, c.id);
      case 'resync':
        return this.replace(c.records);
    }
  }

  replace(records: readonly DeviceRecord[]): void {
    this.#rows.clear();
    this.#byUser.clear();
    for (const r of records) this.#put(r);
  }

  #put(r: DeviceRecord): void {
    const k = deviceRowKey(r.user, r.id);
    this.#rows.set(k, r);
    const u = r.user.toLowerCase();
    let set = this.#byUser.get(u);
    if (!set) this.#byUser.set(u, (set = new Set()));
    set.add(k);
  }

  #remove(user: string, id: string): void {
    const k = deviceRowKey(user, id);
    this.#rows.delete(k);
    const set = this.#byUser.get(user.toLowerCase());
    set?.delete(k);
    if (set?.size === 0) this.#byUser.delete(user.toLowerCase());
  }
}
