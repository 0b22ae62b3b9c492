// The Connections table's filter and sort, as a pure function of the views and the query string.
import type { ConnectionView } from '../control.js';

export const SORTS = ['opened', 'user', 'protocol', 'client', 'bytes', 'requests'] as const;
export type SortKey = (typeof SORTS)[number];

export interface ConnectionQuery {
  /** Matches user, client address, protocol, zone, device and path (case-insensitive). */
  readonly q: string;
  readonly protocol: string;
  readonly sort: SortKey;
  readonly desc: boolean;
}

export function connectionQuery(p: URLSearchParams): ConnectionQuery {
  const sort = p.get('sort');
  return {
    q: (p.get('q') ?? '').trim().slice(0, 200),
    protocol: (p.get('protocol') ?? '').trim(),
    sort: (SORTS as readonly string[]).includes(sort ?? '') ? (sort as SortKey) : 'opened',
    desc: p.get('dir') !== 'asc',
  };
}

const text = (c: ConnectionView) => [c.user, c.client, c.protocol, c.zone, c.device?.id, c.device?.type, c.current?.path, c.current?.command].filter(Boolean).join(' ').toLowerCase();

const KEY: Record<SortKey, (c: ConnectionView) => string | number> = {
  opened: (c) => c.openedAt,
  user: (c) => (c.user ?? '').toLowerCase(),
  protocol: (c) => c.protocol ?? '',
  client: (c) => c.client,
  bytes: (c) => (c.bytesIn ?? 0) + (c.bytesOut ?? 0),
  requests: (c) => c.requests,
};

export function filterConnections(all: readonly ConnectionView[], q: ConnectionQuery): ConnectionView[] {
  const needle = q.q.toLowerCase();
  const out = all.filter((c) => (!q.protocol || c.protocol === q.protocol) && (!needle || text(c).includes(needle)));
  const key = KEY[q.sort];
  const dir = q.desc ? -1 : 1;
  return out.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -dir : x > y ? dir : a.id - b.id;
  });
}
