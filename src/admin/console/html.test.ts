import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, html, trusted } from './html.js';

describe('console html template', () => {
  it('escapes every interpolation', () => {
    const evil = `<script>alert("x")</script>' onload=\``;
    assert.equal(html`<td title="${evil}">${evil}</td>`.text, `<td title="${escapeHtml(evil)}">${escapeHtml(evil)}</td>`);
    assert.doesNotMatch(html`${evil}`.text, /<script|"|'|`/);
  });
  it('keeps nested templates and trusted markup, joins arrays, drops empty values', () => {
    const rows = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    assert.equal(html`<ul>${rows}</ul>`.text, '<ul><li>a&lt;b</li><li>c</li></ul>');
    assert.equal(html`${trusted('<svg></svg>')}`.text, '<svg></svg>');
    assert.equal(html`${undefined}${null}${false}${0}`.text, '0');
  });
  it('a plain string that looks like markup is still escaped', () => {
    assert.equal(html`${'<b>x</b>'}`.text, '&lt;b&gt;x&lt;/b&gt;');
  });
});
