// The version is written once, in package.json: `portcullis --version` prints it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = new URL('../bin/portcullis.js', import.meta.url).pathname;

describe('portcullis --version', () => {
  it('prints package.json\'s version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const { stdout } = await run(process.execPath, [BIN, '--version']);
    assert.equal(stdout.trim(), version);
    assert.match(version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });
});
