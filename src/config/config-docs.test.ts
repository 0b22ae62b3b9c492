import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { configJsonSchema, configKeys, configMarkdown } from './config-docs.js';

describe('docs/configuration.md', () => {
  it('is generated from the current schema, examples and guides (run npm run docs:config)', () => {
    assert.equal(readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8'), configMarkdown());
  });

  it('every key has a description, and every value key an example', () => {
    const keys = configKeys();
    assert.ok(keys.length > 120, `only ${keys.length} keys`);
    for (const k of keys) {
      assert.ok(k.description.length > 0, `${k.path} has no .describe() text`);
      if (!k.container) assert.notEqual(k.example, undefined, `${k.path} has no example (set it in an example config or in EXAMPLES)`);
    }
  });

  it('covers every section, both directory providers, and the guides an AD admin needs', () => {
    const md = configMarkdown();
    for (const section of Object.keys((configJsonSchema()['properties'] ?? {}) as object)) assert.match(md, new RegExp(`^## ${section}$`, 'm'));
    assert.match(md, /`directory\.urls \(provider: ldap\)` \| list of ldap:\/\/ or ldaps:\/\/ URL/);
    assert.match(md, /`directory\.file \(provider: file\)`/);
    assert.match(md, /`lockout\.threshold` \| integer ≥ 1 \| `5` \|/);
    for (const guide of [/by their \*\*CN\*\*/, /Windows Authorization Access Group/, /lockout\.cooldown` at least AD's/, /AmbientCapabilities=CAP_NET_BIND_SERVICE/, /ip_unprivileged_port_start/]) {
      assert.match(md, guide);
    }
  });

  it('examples of a directory variant come from a file using that variant', () => {
    const byPath = new Map(configKeys().map((k) => [k.path, k]));
    assert.equal(byPath.get('directory.file (provider: file)')?.example, 'directory.yaml');
    assert.deepEqual(byPath.get('directory.urls (provider: ldap)')?.example, ['ldaps://dc1.corp.contoso.com', 'ldaps://dc2.corp.contoso.com']);
  });
});
