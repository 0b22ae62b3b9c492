// The instance's authority over ActiveSync devices (the single process, or a worker pool's
// primary): it loads the DeviceStore into the mirror at start, writes every operator change and
// every newly seen device to the store, applies what other instances change (PostgreSQL), and
// tells its hooks, so the composition can close the live connections of a device no longer allowed
// and hand the change to the workers. Every change is published on portcullis:device:changed.
import type { Logger } from 'pino';
import { events } from '../events.js';
import type { DeviceRef } from '../vocabulary/device.js';
import { type AdmitRule, type DeviceChange, type DeviceRecord, type DeviceState, type DeviceStore, DeviceStoreError } from '../state/device-store.js';
import type { DeviceAdmissions } from './device-gate.js';
import { DeviceRegistry } from './device-registry.js';

export interface DeviceAuthorityHooks {
  /** A change is in the mirror (this instance's or another's): close what it withdraws, tell the workers. Returns how many connections closed. */
  readonly onChange?: (c: DeviceChange) => number | Promise<number>;
}

/** Puts a device change on the record (audit trail, log line). */
export function recordDeviceChange(r: Pick<DeviceRecord, 'user' | 'id' | 'type' | 'actor'> & { state: DeviceState | 'removed' }, connectionsClosed: number): void {
  if (events.deviceChanged.hasSubscribers) {
    events.deviceChanged.publish({ at: Date.now(), user: r.user, deviceId: r.id, deviceType: r.type, state: r.state, actor: r.actor, connectionsClosed });
  }
}

export class DeviceAuthority implements DeviceAdmissions {
  readonly registry = new DeviceRegistry();

  constructor(
    readonly store: DeviceStore,
    private readonly log: Logger,
    private readonly hooks: DeviceAuthorityHooks = {},
  ) {}

  get describe(): string {
    return this.store.describe;
  }

  /** Opens the store and loads the mirror; a store that cannot be opened stops the start. */
  async start(): Promise<void> {
    this.registry.replace(await this.store.open());
    this.store.watch((c) => {
      this.registry.apply(c);
      if (c.kind !== 'resync') this.log.info({ change: c.kind, user: c.kind === 'put' ? c.record.user : c.user, device: c.kind === 'put' ? c.record.id : c.id }, 'device changed on another gateway instance');
      void Promise.resolve(this.hooks.onChange?.(c)).catch(() => 0);
    });
  }

  list(): DeviceRecord[] {
    return this.registry.list().sort((a, b) => a.user.localeCompare(b.user) || a.firstSeen - b.firstSeen);
  }

  async admitNew(user: string, device: DeviceRef, rule: AdmitRule): Promise<DeviceRecord | undefined> {
    const known = this.registry.get(user, device.id);
    if (known) return known;
    const now = Date.now();
    const r = await this.store.admitNew(user, device.id, device.type, now, rule);
    if (!r) return undefined;
    if (this.registry.get(r.user, r.id)?.state !== r.state) {
      this.registry.apply({ kind: 'put', record: r });
      await this.hooks.onChange?.({ kind: 'put', record: r });
      // Made by this call (a row another instance made has its own time): on the record once, by this instance.
      if (r.firstSeen === now && r.changedAt === now) recordDeviceChange(r, 0);
    }
    return r;
  }

  /** An operator's approval or block; resolves with the row and the connections it closed. */
  async set(user: string, id: string, type: string | undefined, state: Exclude<DeviceState, 'quarantined'>, actor: string): Promise<{ record: DeviceRecord; closed: number }> {
    const now = Date.now();
    const record = await this.store.put({ user, id, type, state, firstSeen: now, changedAt: now, actor });
    this.registry.apply({ kind: 'put', record });
    const closed = (await this.hooks.onChange?.({ kind: 'put', record })) ?? 0;
    recordDeviceChange(record, closed);
    return { record, closed };
  }

  /** Forgets a device (it is new again: in allow-list and quarantine mode it is refused until approved). */
  async remove(user: string, id: string, actor: string): Promise<{ removed: DeviceRecord | undefined; closed: number }> {
    const removed = await this.store.remove(user, id);
    if (!removed) return { removed, closed: 0 };
    this.registry.apply({ kind: 'remove', user: removed.user, id: removed.id });
    const closed = (await this.hooks.onChange?.({ kind: 'remove', user: removed.user, id: removed.id })) ?? 0;
    recordDeviceChange({ ...removed, state: 'removed', actor }, closed);
    return { removed, closed };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

export { DeviceStoreError };
