// The fuzzer's own tests: coverage guidance must find what blind mutation cannot, a sound target
// must come out clean, a hang must be stopped and reported, and a seed must replay a run exactly.
// Runs in the unit suite (scripts/run-tests.mjs includes fuzz/).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type CampaignOptions, runCampaign } from './engine/campaign.js';
import { FeatureMap, bucket } from './engine/feature-map.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const toy = (name: string) => new URL(`./toys/${name}.ts`, import.meta.url).href;
const NO_SEEDS = path.join(here, 'toys', 'no-seeds'); // does not exist: the corpus starts empty
const MAGIC = '46555a5ac39e710b'; // "FUZZ" c3 9e 71 0b, compared byte by byte in toys/planted-bug.ts

describe('coverage-guided fuzzing', () => {
  // Blind mutation has to produce all 8 bytes in one input: about (1/2048)^8 per try even with
  // the right positions, so 750,000 tries find nothing. Guided, each correct byte opens a new
  // block and becomes a corpus entry, and the next byte starts from there.
  const budget = 750_000; // seed 1 finds it at about 330,000
  const planted: CampaignOptions = {
    targetUrl: toy('planted-bug'), corpusDir: NO_SEEDS, execs: budget, seconds: Infinity, seed: '1',
    batch: 1024, preciseEvery: 0, maxFindings: 1,
  };

  it('finds the bug behind eight byte comparisons within the budget; blind mutation does not', async (t) => {
    const [guided, blind] = await Promise.all([runCampaign(planted), runCampaign({ ...planted, guided: false })]);
    assert.equal(guided.findings.length, 1, 'the planted bug was not found');
    const f = guided.findings[0]!;
    assert.equal(f.kind, 'crash');
    assert.match(f.message, /^RangeError: Invalid array length/);
    assert.equal(f.input.subarray(0, 8).toString('hex'), MAGIC);
    assert.ok(f.atExec !== undefined && f.atExec <= budget);
    t.diagnostic(`guided: found at execution ${f.atExec}, corpus ${guided.stats.corpus}; blind: ${blind.stats.execs} executions, nothing`);
    assert.ok(guided.stats.corpus >= 9, `one corpus entry per matched byte expected, got ${guided.stats.corpus}`);
    assert.equal(blind.stats.execs, budget);
    assert.deepEqual(blind.findings, []);
    assert.equal(blind.stats.corpus, 1);
  });

  it('reports nothing on a correct parser, while its coverage grows', async () => {
    const r = await runCampaign({
      targetUrl: new URL('./targets/chunked.ts', import.meta.url).href, corpusDir: path.join(here, 'corpus', 'chunked'),
      execs: 3000, seconds: Infinity, seed: '1',
    });
    assert.deepEqual(r.findings, []);
    assert.equal(r.stats.execs, 3000);
    assert.ok(r.stats.blocks > r.stats.blocksStart, `coverage did not grow: ${r.stats.blocksStart} → ${r.stats.blocks}`);
  });

  it('stops a hanging input and reports it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fuzz-hang-'));
    try {
      writeFileSync(path.join(dir, 'seed'), 'HANG');
      const r = await runCampaign({ targetUrl: toy('hang'), corpusDir: dir, execs: 100, seconds: Infinity, seed: '1', hangMs: 300 });
      assert.equal(r.findings.length, 1);
      assert.equal(r.findings[0]!.kind, 'timeout');
      assert.equal(r.findings[0]!.input.toString('latin1'), 'HANG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replays a run exactly from its seed', async () => {
    const run = () => runCampaign({ ...planted, execs: 20_000, maxFindings: 10 });
    const [a, b] = [await run(), await run()];
    assert.deepEqual({ ...a.stats, seconds: 0 }, { ...b.stats, seconds: 0 });
  });
});

describe('FeatureMap', () => {
  const sample = (ranges: Array<[number, number, number]>) => [
    { scriptId: '1', url: 'u', functions: [{ functionName: 'f', ranges: ranges.map(([startOffset, endOffset, count]) => ({ startOffset, endOffset, count })) }] },
  ];

  it('sees a block that V8 merged into its parent as run', () => {
    const map = new FeatureMap();
    map.merge(map.extract(sample([[0, 100, 1], [10, 20, 0]]))); // if-branch not taken
    assert.equal(map.blocks, 1);
    // Taken once in a function run once: V8 drops the nested range (same count as the parent).
    const taken = map.extract(sample([[0, 100, 1]]));
    assert.ok(map.hasNewBlock(taken));
    map.merge(taken);
    assert.equal(map.blocks, 2);
  });

  it('counts hit-count buckets as features, not as blocks', () => {
    const map = new FeatureMap();
    map.merge(map.extract(sample([[0, 100, 1], [10, 20, 1]])));
    const more = map.extract(sample([[0, 100, 1], [10, 20, 9]]));
    assert.ok(!map.hasNewBlock(more) && map.hasNewFeature(more));
    assert.deepEqual([1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 127, 128, 1e6].map(bucket), [0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]);
  });
});
