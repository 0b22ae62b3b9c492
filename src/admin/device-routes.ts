// The admin endpoint's ActiveSync device routes (what `portcullis devices` calls): list, approve,
// block, remove. The user is resolved as revoke resolves it (the directory's spelling of the key;
// `force` takes a DOMAIN\user as written); the device id must be one a device could send.
import type http from 'node:http';
import { isDeviceId, isDeviceType } from '../classify/activesync-query.js';
import type { DeviceControl } from './control.js';
import { DeviceStoreError } from '../state/device-store.js';

type Resolve = (user: unknown, anyName?: boolean) => Promise<{ key: string; directory?: string } | { status: number; error: string }>;
type Route = (req: http.IncomingMessage, url: URL) => Promise<[number, unknown]>;

/** A store that cannot be written is the server's trouble (503), not the caller's request (400). */
const storeAware =
  (route: Route): Route =>
  async (req, url) => {
    try {
      return await route(req, url);
    } catch (e) {
      if (e instanceof DeviceStoreError) return [503, { error: `${e.message}: nothing was changed; try again when the store answers` }];
      throw e;
    }
  };

export function deviceRoutes(devices: DeviceControl, resolve: Resolve, actorOf: (body: Record<string, unknown>) => string, readJson: (req: http.IncomingMessage) => Promise<Record<string, unknown>>): Record<string, Route> {
  /** The body's user and device, checked; an error answer otherwise. */
  const target = async (body: Record<string, unknown>, anyName: boolean): Promise<{ user: string; id: string } | [number, unknown]> => {
    const id = body['device'];
    if (typeof id !== 'string' || !isDeviceId(id)) return [400, { error: 'device must be a DeviceId: 1-64 letters, digits, - or _ (as portcullis devices list shows it)' }];
    const who = await resolve(body['user'], anyName || body['force'] === true);
    if ('error' in who) return [who.status, { error: who.error }];
    return { user: who.key, id };
  };
  const change = (state: 'approved' | 'blocked'): Route => async (req) => {
    const body = await readJson(req);
    const t = await target(body, false);
    if (Array.isArray(t)) return t;
    const type = body['type'];
    if (type !== undefined && (typeof type !== 'string' || !isDeviceType(type))) return [400, { error: 'type must be a DeviceType: 1-64 letters, digits, ., - or _' }];
    const { record, closed } = await devices.set(t.user, t.id, type as string | undefined, state, actorOf(body));
    return [200, { device: record, closedConnections: closed }];
  };
  return {
    'GET /api/devices': async (_req, url) => {
      const user = url.searchParams.get('user');
      let all = await devices.list();
      if (user !== null) {
        const who = await resolve(user, true);
        if ('error' in who) return [who.status, { error: who.error }];
        all = all.filter((d) => d.user.toLowerCase() === who.key.toLowerCase());
      }
      return [200, all];
    },
    'POST /api/devices/approve': storeAware(change('approved')),
    'POST /api/devices/block': storeAware(change('blocked')),
    'POST /api/devices/remove': storeAware(async (req) => {
      const body = await readJson(req);
      const t = await target(body, true);
      if (Array.isArray(t)) return t;
      const { removed, closed } = await devices.remove(t.user, t.id, actorOf(body));
      return removed ? [200, { removed, closedConnections: closed }] : [404, { error: `${t.user} has no device ${t.id}` }];
    }),
  };
}
