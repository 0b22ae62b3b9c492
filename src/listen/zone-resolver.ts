import type net from 'node:net';
import { blockListOf, parseCidr, plainAddress } from '../vocabulary/cidr.js';
import type { ListenerConfig } from './listen-schema.js';
import type { Zone } from '../vocabulary/zones.js';

/** Zone of a client: the first clientZones range that holds its address, else the listener's zone. */
export function zoneResolver(l: ListenerConfig): (remote: string | undefined) => Zone {
  const rules: Array<{ list: net.BlockList; zone: Zone }> = l.clientZones.map((r) => ({
    list: blockListOf([parseCidr(r.cidr)!]),
    zone: r.zone,
  }));
  return (remote) => {
    if (!remote || rules.length === 0) return l.zone;
    const { address, family } = plainAddress(remote);
    for (const r of rules) if (r.list.check(address, family)) return r.zone;
    return l.zone;
  };
}
