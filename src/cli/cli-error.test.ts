import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUG_EXIT, CliError, debugRequested, describeFailure } from './cli-error.js';
import { doctorTarget } from './commands-doctor.js';

describe('describeFailure', () => {
  it('an admin-fixable error is its message, with its exit code', () => {
    assert.deepEqual(describeFailure(new CliError('--zone must be external or internal'), false), { text: 'portcullis: --zone must be external or internal', exitCode: 1 });
    assert.equal(describeFailure(new CliError('x', 2), true).exitCode, 2);
  });

  it('a file error from node:fs is `path: not found`', () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, open 'x.crt'"), { code: 'ENOENT', path: 'x.crt' });
    assert.deepEqual(describeFailure(e, false), { text: 'portcullis: x.crt: not found', exitCode: 1 });
  });

  it('anything else is named a bug, in one line, with the hint; --debug shows the stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')\nmore");
    const f = describeFailure(bug, false);
    assert.equal(f.exitCode, BUG_EXIT);
    assert.equal(f.text, "portcullis: unexpected error: TypeError: Cannot read properties of undefined (reading 'x') (a bug: run again with --debug for the stack trace, and report it)");
    const d = describeFailure(bug, true);
    assert.match(d.text, /^TypeError: [^]*\n\s+at /);
    assert.equal(d.exitCode, BUG_EXIT);
  });

  it('--debug anywhere, or PORTCULLIS_DEBUG=1', () => {
    assert.equal(debugRequested(['node', 'p', 'revoke', 'x', '--debug'], {}), true);
    assert.equal(debugRequested(['node', 'p'], { PORTCULLIS_DEBUG: '1' }), true);
    assert.equal(debugRequested(['node', 'p'], {}), false);
  });
});

describe('doctorTarget', () => {
  const table: Array<[string, string]> = [
    ['mail.contoso.com', 'https://mail.contoso.com'],
    ['mail.contoso.com:8443', 'https://mail.contoso.com:8443'],
    ['https://mail.contoso.com/', 'https://mail.contoso.com'],
    ['HTTPS://Mail.Contoso.com', 'https://mail.contoso.com'],
    [' 127.0.0.1:8443 ', 'https://127.0.0.1:8443'],
  ];
  for (const [arg, want] of table) it(`${arg} -> ${want}`, () => assert.equal(doctorTarget(arg), want));
  it('refuses other schemes and non-hosts', () => {
    assert.throws(() => doctorTarget('http://mail.contoso.com'), /use https:\/\/mail\.contoso\.com/);
    assert.throws(() => doctorTarget('ftp://x'), CliError);
    assert.throws(() => doctorTarget('::::'), /is not a host name or URL/);
  });
});
