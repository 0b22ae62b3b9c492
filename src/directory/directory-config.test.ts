import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { directoryConfigSchema } from './directory-config.js';

const base = { provider: 'ldap', bindDn: 'svc@lab.example', bindPassword: 'x', baseDn: 'DC=lab,DC=example', netbiosDomain: 'LAB', upnSuffixes: ['lab.example'] };
const ldap = (over: Record<string, unknown>) => {
  const r = directoryConfigSchema.parse({ ...base, ...over });
  assert.equal(r.provider, 'ldap');
  return r as Extract<typeof r, { provider: 'ldap' }>;
};

describe('ldap directory config', () => {
  it('accepts the single url of before, and several domain controllers (url first)', () => {
    assert.deepEqual(ldap({ url: 'ldaps://dc1' }).urls, ['ldaps://dc1']);
    const two = ldap({ urls: ['ldaps://dc1', 'ldaps://dc2'] });
    assert.deepEqual(two.urls, ['ldaps://dc1', 'ldaps://dc2']);
    assert.equal(two.url, 'ldaps://dc1', 'url stays set for readers of the old field');
    assert.deepEqual(ldap({ url: 'ldaps://dc0', urls: ['ldaps://dc1', 'ldaps://dc0'] }).urls, ['ldaps://dc0', 'ldaps://dc1']);
  });

  it('refuses no domain controller, and plain ldap:// without StartTLS, naming the field', () => {
    const none = directoryConfigSchema.safeParse(base);
    assert.equal(none.success, false);
    assert.deepEqual(none.error!.issues.map((i) => i.path), [['urls']]);
    const plain = directoryConfigSchema.safeParse({ ...base, urls: ['ldaps://dc1', 'ldap://dc2'] });
    assert.deepEqual(plain.error!.issues.map((i) => [i.path, i.message]), [[['urls', 1], 'plain ldap:// sends the service password in clear: use ldaps:// or startTls: true']]);
    assert.ok(directoryConfigSchema.safeParse({ ...base, urls: ['ldap://dc2'], startTls: true }).success);
    assert.equal(directoryConfigSchema.safeParse({ ...base, url: 'ldaps://dc1', pool: { size: 0 } }).success, false);
    assert.equal(directoryConfigSchema.safeParse({ ...base, url: 'ldaps://dc1', pool: { sise: 4 } }).success, false, 'unknown keys are refused');
  });

  it('has storm-ready defaults: a bounded pool, a breaker, tokenGroups on AD, a walk on OpenLDAP', () => {
    const d = ldap({ url: 'ldaps://dc1' });
    assert.deepEqual(d.pool, { size: 8, bindSize: 2, acquireTimeout: 5000, maxWaiting: 1000, healthCheck: 30_000, idleTimeout: 300_000 });
    assert.deepEqual(d.breaker, { cooldown: 2000, maxCooldown: 30_000 });
    assert.equal(d.groupResolution, 'member-of');
    assert.equal(d.negativeCacheTtl, 60_000);
    assert.equal(d.refreshAhead, 0.8);
    assert.equal(ldap({ url: 'ldaps://dc1', flavor: 'openldap' }).groupResolution, 'walk');
    assert.equal(ldap({ url: 'ldaps://dc1', groupResolution: 'in-chain' }).groupResolution, 'in-chain');
  });

  it('describes every field (config schema for editors)', () => {
    const json = JSON.stringify(z.toJSONSchema(directoryConfigSchema, { io: 'input' }));
    const ldapSchema = (z.toJSONSchema(directoryConfigSchema, { io: 'input' }) as { oneOf: Array<{ properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }> }> }).oneOf[1]!;
    const missing = Object.entries(ldapSchema.properties).filter(([k, v]) => k !== 'provider' && !v.description).map(([k]) => k);
    assert.deepEqual(missing, []);
    for (const k of ['pool', 'breaker']) {
      const inner = Object.entries(ldapSchema.properties[k]!.properties ?? {}).filter(([, v]) => !v.description).map(([n]) => n);
      assert.deepEqual(inner, [], k);
    }
    assert.ok(json.includes('tokenGroups'));
  });
});
