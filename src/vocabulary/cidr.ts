import net from 'node:net';

export interface Cidr {
  readonly text: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
  readonly prefix: number;
}

/** Parses "10.0.0.0/8" or "fd00::/8"; a bare address is a host route. */
export function parseCidr(text: string): Cidr | undefined {
  const [addr, len, ...rest] = text.trim().split('/');
  if (!addr || rest.length > 0) return undefined;
  const v = net.isIP(addr);
  if (v === 0) return undefined;
  const max = v === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) return undefined;
  return { text, family: v === 4 ? 'ipv4' : 'ipv6', address: addr, prefix };
}

/** A BlockList holding the given ranges, for fast membership checks on every connection. */
export function blockListOf(cidrs: readonly Cidr[]): net.BlockList {
  const list = new net.BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/** Normalises IPv4-mapped IPv6 ("::ffff:127.0.0.1") to plain IPv4 before matching. */
export function plainAddress(remote: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (m) return { address: m[1]!, family: 'ipv4' };
  return { address: remote, family: net.isIPv6(remote) ? 'ipv6' : 'ipv4' };
}
