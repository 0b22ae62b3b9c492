import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from './schema.js';
import { allowedKeys } from './zod-problems.js';
import { loadConfig } from './load.js';

describe('allowedKeys', () => {
  it('reads the keys allowed at a path from the schema, through defaults, arrays and the directory union', () => {
    assert.ok(allowedKeys(configSchema, {}, [])?.includes('listeners'));
    assert.ok(allowedKeys(configSchema, { listeners: [{}] }, ['listeners', 0])?.includes('address'));
    assert.ok(allowedKeys(configSchema, {}, ['upstream', 'tls'])?.includes('servername'));
    const ldap = allowedKeys(configSchema, { directory: { provider: 'ldap' } }, ['directory']);
    assert.ok(ldap?.includes('bindDn') && !ldap.includes('file'), 'the LDAP option only');
    const file = allowedKeys(configSchema, { directory: { provider: 'file' } }, ['directory']);
    assert.deepEqual(file?.sort(), ['file', 'provider']);
    assert.ok(allowedKeys(configSchema, {}, ['edge', 'offeredSchemes'])?.includes('eas'), 'record keys from their enum');
  });
});

describe('schema problems in an admin\'s words', () => {
  it('did you mean, required, unknown values', () => {
    const text = ['listeners:', '  - port: 1', '    adress: 0.0.0.0', '    tls: {certificates: [{cert: a}]}', 'upstream: {url: https://x}', 'directory: {provider: ldap, bindDN: x}', 'policy: {rules: [{name: r, effect: alow}]}'].join('\n');
    const r = loadConfig('/c.yaml', text);
    assert.equal(r.ok, false);
    if (r.ok) return;
    const msgs = r.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
    assert.ok(msgs.includes('3:listeners[0].adress: unknown setting "adress" (did you mean "address"?)'), msgs.join('\n'));
    assert.ok(msgs.includes('4:listeners[0].tls.certificates[0]: required setting "key" is missing (string)'), msgs.join('\n'));
    assert.ok(msgs.includes('6:directory.bindDN: unknown setting "bindDN" (did you mean "bindDn"?)'), msgs.join('\n'));
    assert.ok(msgs.includes('7:policy.rules[0].effect: "alow" is not one of allow, deny (did you mean "allow"?)'), msgs.join('\n'));
  });
});
