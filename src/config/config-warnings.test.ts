import assert from 'node:assert/strict';
import { it } from 'node:test';
import { configWarnings } from './config-warnings.js';
import { configSchema } from './schema.js';

const raw = (devices: Record<string, unknown>) => ({
  listeners: [{ address: '0.0.0.0', port: 443, tls: { certificates: [{ cert: 'a.crt', key: 'a.key' }] } }],
  upstream: { url: 'https://exch01.lab.local' },
  policy: { kerberos: 'allow-unidentified' },
  devices,
});
const place = (at: ReadonlyArray<PropertyKey>, message: string) => ({ path: at.join('.'), message }) as never;

it('devices.autoApprove with mode any is named: it would do nothing', () => {
  const warn = (d: Record<string, unknown>) => configWarnings(configSchema.parse(raw(d)), raw(d), place).map((w: { path: string; message: string }) => `${w.path}: ${w.message}`);
  assert.deepEqual(warn({ autoApprove: 2 }), ['devices.autoApprove: has no effect with devices.mode: any (every device syncs already); set mode: quarantine or allow-list, or remove autoApprove']);
  assert.deepEqual(warn({ mode: 'quarantine', autoApprove: 2 }), []);
});

it('identity.bearer without issuer or audience is named: a token for any application would do', () => {
  const withBearer = (bearer: Record<string, unknown>) => ({ ...raw({}), identity: { bearer } });
  const warn = (b: Record<string, unknown>) => configWarnings(configSchema.parse(withBearer(b)), withBearer(b), place).map((w: { path: string; message: string }) => `${w.path}: ${w.message}`);
  assert.deepEqual(warn({ jwksFile: 'jwks.json' }), ["identity.bearer: no issuer or audience: any token these keys signed, for any application, names a user; set issuer and audience (Exchange's URL)"]);
  assert.match(warn({ jwksFile: 'jwks.json', issuer: 'https://sts' }).join(), /no audience/);
  assert.deepEqual(warn({ jwksFile: 'jwks.json', issuer: 'https://sts', audience: 'https://mail' }), []);
});
