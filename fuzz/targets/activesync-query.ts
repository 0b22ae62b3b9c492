// The ActiveSync query parser (src/classify/activesync-query.ts). The first byte picks the form:
// even, the rest is the query text (the plain form, or base64 as a device writes it); odd, the rest
// is the base64 form's decoded bytes, encoded here. Oracles: never throws; a refusal names its
// problem in printable text; an accepted query names exactly one device in the characters the
// parser promises; an accepted plain query has DeviceId exactly once (any case) with the returned
// value; an accepted base64 query's bytes re-encoded with padding or without parse the same.
import { parseActiveSyncQuery } from '../../src/classify/activesync-query.js';
import { type FuzzTarget, invariant, sameValue, sourceUrl } from '../engine/target.js';

const target: FuzzTarget = {
  name: 'activesync-query',
  sources: [sourceUrl('../../src/classify/activesync-query.ts', import.meta.url)],
  maxLen: 2200,
  dictionary: [
    'Cmd=', 'Sync', 'Ping', '&', '=', 'DeviceId=', 'deviceid=', 'DeviceType=', 'User=', '%', '%2B', '%3D', '%41', '%u0041', '+', '/', ',',
    [141, 18, 9, 4], [161, 0, 9, 4], [0, 4], [8, 4], [7, 1, 1], [0x0a],
  ],
  run(input) {
    if (input.length === 0) return;
    const body = input.subarray(1);
    const text = input[0]! % 2 === 0 ? body.toString('latin1') : body.toString('base64');
    const r = parseActiveSyncQuery(text);
    if (!r.ok) {
      invariant(/^[\x20-\x7e…]+$/.test(r.problem), 'a problem that is not printable text', () => r.problem);
      return;
    }
    const q = r.query;
    invariant(/^[A-Za-z0-9_-]{1,64}$/.test(q.deviceId), 'a DeviceId outside its characters', () => q.deviceId);
    invariant(/^[A-Za-z0-9_.-]{1,64}$/.test(q.deviceType), 'a DeviceType outside its characters', () => q.deviceType);
    invariant(q.user === undefined || /^[\x21-\x7e]+$/.test(q.user), 'a User that is not printable', () => q.user);
    if (q.form === 'plain') {
      const ids = text.split('&').filter((p) => p.slice(0, p.indexOf('=') + 1).toLowerCase() === 'deviceid=');
      sameValue(ids, [`${ids[0]?.slice(0, 9)}${q.deviceId}`], 'DeviceId not exactly once, as returned');
    } else {
      const bytes = Buffer.from(text.replace(/%(2B|2F|3D)/gi, (m) => decodeURIComponent(m)), 'base64');
      const padded = bytes.toString('base64');
      sameValue(parseActiveSyncQuery(padded), r, 'padded base64 parses differently');
      sameValue(parseActiveSyncQuery(padded.replace(/=+$/, '')), r, 'unpadded base64 parses differently');
    }
  },
};

export default target;
