import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CATALOG } from './catalog.js';
import { doctorMarkdown } from './docs.js';

describe('docs/doctor.md', () => {
  it('is generated from the current catalog (run npm run docs:doctor)', () => {
    assert.equal(readFileSync(new URL('../../docs/doctor.md', import.meta.url), 'utf8'), doctorMarkdown());
  });
  it('every finding id the checks emit is in the catalog', () => {
    const dir = new URL('./', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'catalog.ts');
    const src = files.map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
    const used = [...src.matchAll(/finding\('([A-Z0-9-]+)'/g)].map((m) => m[1]!);
    assert.ok(used.length > 40);
    for (const id of used) assert.ok(CATALOG[id], `${id} is not documented`);
  });
});
