// After a device change: closes the live connections whose ActiveSync device the policy no longer
// allows (a blocked device's held Ping is cut at once, like a revoked user's connections). Only the
// changed device's connections are judged: another device of the same user, or one forwarded to
// be auto-approved, keeps its connection.
import type { ClientConnection } from '../forward/client-connection.js';
import type { DeviceChange } from '../state/device-store.js';
import { deviceRowKey } from '../state/device-store.js';
import { judgeDevice } from './device-gate.js';
import type { DeviceRegistry } from './device-registry.js';
import type { DeviceMode } from './devices-schema.js';

type Live = Pick<ClientConnection, 'device' | 'identity' | 'pending' | 'close'>;

/** `all`: after a reload (the mode may have changed), every connection's device is judged again, unknown ones too. */
export function withdrawDevices(connections: Iterable<Live>, mode: DeviceMode, registry: DeviceRegistry, change: DeviceChange | 'all'): number {
  // A device recorded in quarantine was refused already: its request's own connection is closing
  // with that answer (and another instance's record withdraws nothing that was allowed).
  if (change !== 'all' && change.kind === 'put' && change.record.state === 'quarantined') return 0;
  const only = change === 'all' ? undefined : change.kind === 'put' ? deviceRowKey(change.record.user, change.record.id) : change.kind === 'remove' ? deviceRowKey(change.user, change.id) : undefined;
  let closed = 0;
  for (const c of [...connections]) {
    const user = (c.identity ?? c.pending)?.entry?.key;
    if (!c.device || !user) continue;
    const key = deviceRowKey(user, c.device.id);
    if (only !== undefined && key !== only) continue;
    const record = registry.get(user, c.device.id);
    // After a resync only what the store now names is judged: an unknown device may be on its way to approval.
    if (change !== 'all' && only === undefined && !record) continue;
    const verdict = judgeDevice(mode, record);
    if (verdict === 'allow') continue;
    c.close('access-withdrawn', `${verdict}: device ${c.device.id} of ${user}`);
    closed++;
  }
  return closed;
}
