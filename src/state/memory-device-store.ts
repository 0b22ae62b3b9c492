// Device approvals in this process' memory: `state.store: memory` (a restart forgets them; tests),
// and the reference the SQLite and PostgreSQL stores are held to by the contract suite.
import { type AdmitRule, type DeviceChange, type DeviceRecord, type DeviceStore, deviceRowKey } from './device-store.js';

export class MemoryDeviceStore implements DeviceStore {
  readonly describe = 'memory';
  readonly shared = false;
  readonly #rows = new Map<string, DeviceRecord>();

  async open(): Promise<DeviceRecord[]> {
    return this.list();
  }

  async list(): Promise<DeviceRecord[]> {
    return [...this.#rows.values()].sort((a, b) => a.firstSeen - b.firstSeen);
  }

  async put(r: DeviceRecord): Promise<DeviceRecord> {
    const k = deviceRowKey(r.user, r.id);
    const old = this.#rows.get(k);
    const row: DeviceRecord = old ? { ...old, type: r.type ?? old.type, state: r.state, changedAt: r.changedAt, actor: r.actor } : r;
    this.#rows.set(k, row);
    return row;
  }

  async remove(user: string, id: string): Promise<DeviceRecord | undefined> {
    const k = deviceRowKey(user, id);
    const old = this.#rows.get(k);
    this.#rows.delete(k);
    return old;
  }

  async admitNew(user: string, id: string, type: string, now: number, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const old = this.#rows.get(deviceRowKey(user, id));
    if (old) return old;
    const mine = [...this.#rows.values()].filter((r) => r.user.toLowerCase() === user.toLowerCase());
    const count = (s: DeviceRecord['state']) => mine.filter((r) => r.state === s).length;
    const state = count('approved') < rule.autoApprove ? 'approved' : count('quarantined') < rule.maxPending ? 'quarantined' : undefined;
    if (!state) return undefined;
    const row: DeviceRecord = { user, id, type, state, firstSeen: now, changedAt: now, actor: state === 'approved' ? 'auto-approve' : 'quarantine' };
    this.#rows.set(deviceRowKey(user, id), row);
    return row;
  }

  watch(_listener: (c: DeviceChange) => void): void {
    // One process: every change is its own.
  }

  async close(): Promise<void> {}
}
