import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, lineChart } from './svg-chart.js';

describe('console SVG charts', () => {
  it('draws a line through the points, scaled to the peak', () => {
    const svg = lineChart('Requests per second', [{ at: 0, v: 0 }, { at: 60_000, v: 10 }, { at: 120_000, v: 5 }], '/s').text;
    assert.match(svg, /<path class="series" d="M4.0,86.0 L160.0,4.0 L316.0,45.0"\/>/);
    assert.match(svg, /<b>5\/s<\/b> now, peak 10\/s \(last 2 min\)/);
    assert.match(lineChart('x', []).text, /collecting samples/);
  });
  it('bars are sorted, labels escaped', () => {
    const svg = barChart('Denials', { '<b>': 1, 'not-in-group': 4 }, 'none').text;
    assert.ok(svg.indexOf('not-in-group') < svg.indexOf('&lt;b&gt;'));
    assert.doesNotMatch(svg, /<b>/);
    assert.match(barChart('Denials', {}, 'no denials').text, /no denials/);
  });
});
