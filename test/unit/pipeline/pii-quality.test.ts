/**
 * PII quality floors of the default pipeline on the labeled corpus (test/corpus). The figures
 * themselves are printed by `npm run bench -- pii`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadSieveConfig } from '../../../src/config/load.js';
import { DETECTOR_NAMES } from '../../../src/pipeline/detectors.js';
import { CORPUS_FILE, readCorpus } from '../../corpus/corpus.js';
import { corpusText, DEFAULT_SEED, generateCorpus } from '../../corpus/generate-pii-corpus.js';
import { formatMisses, type Score, scoreCorpus } from '../../corpus/score.js';

const HASH_KEY = 'quality-test-key';
const pipeline = loadSieveConfig('collector-config/sieve.yaml', { env: { SIEVE_HASH_KEY: HASH_KEY } }).pipelines.traces;
const NEVER_TOUCHED = [
  'epoch_s',
  'epoch_ms',
  'epoch_us',
  'epoch_ns',
  'order_id',
  'uuid',
  'semver',
  'four_part_version',
];

test('the committed corpus is what its generator makes from the seed', () => {
  assert.equal(readFileSync(CORPUS_FILE, 'utf8'), corpusText(generateCorpus(DEFAULT_SEED)));
});

test('the corpus covers every built-in detector in every context, and the look-alike classes', () => {
  const entries = readCorpus();
  const positives = entries.filter((e) => e.expect !== 'kept');
  const negatives = entries.filter((e) => e.expect === 'kept');
  assert.ok(positives.length >= 3000, `${positives.length} positives`);
  assert.ok(negatives.length >= 1500, `${negatives.length} negatives`);
  for (const d of DETECTOR_NAMES) {
    const mine = positives.filter((e) => e.detector === d);
    assert.ok(mine.length >= 250, `${d}: ${mine.length}`);
    const contexts = new Set(mine.map((e) => e.context));
    assert.ok(contexts.size >= 4, `${d} contexts: ${[...contexts]}`);
  }
  const classes = new Set(negatives.map((e) => e.class));
  for (const c of [...NEVER_TOUCHED, 'trace_span_id', 'hex_hash', 'price', 'coordinates', 'isbn', 'file_path'])
    assert.ok(classes.has(c), c);
  for (const c of ['base64_blob', 'kubernetes', 'date']) assert.ok(classes.has(c), c);
  assert.equal(new Set(entries.map((e) => e.id)).size, entries.length, 'ids are unique');
});

function assertFloors(score: Score, label: string) {
  const why = `\n${label} misses (id, key, context):\n${formatMisses(score)}`;
  assert.ok(score.recall >= 0.995, `${label}: recall ${(score.recall * 100).toFixed(2)} % < 99.5 %${why}`);
  assert.ok(
    score.falsePositiveRate <= 0.005,
    `${label}: false positives ${(score.falsePositiveRate * 100).toFixed(2)} % > 0.5 %${why}`,
  );
  for (const [d, t] of score.positives)
    assert.ok(t.good / t.total >= 0.99, `${label}: ${d} recall ${t.good}/${t.total}${why}`);
  for (const c of NEVER_TOUCHED) {
    const t = score.negatives.get(c);
    assert.ok(t, c);
    assert.equal(t.total - t.good, 0, `${label}: ${c} touched ${t.total - t.good} of ${t.total}${why}`);
  }
}

test('default pipeline on the corpus: recall ≥ 99.5 %, false positives ≤ 0.5 %, timestamps/order ids/UUIDs/versions untouched', () => {
  assert.ok(pipeline);
  const score = scoreCorpus(pipeline, readCorpus(), HASH_KEY);
  assertFloors(score, `seed ${DEFAULT_SEED}`);
  // positives are caught the labeled way: identifiers hashed exactly, credentials deleted
  for (const d of ['identifier_keys', 'credential_keys']) {
    const t = score.positives.get(d);
    assert.ok(t);
    assert.equal(t.asLabeled, t.total, d);
  }
});

test('the same floors hold on a corpus drawn from another seed (not the one the detectors were tuned on)', () => {
  assert.ok(pipeline);
  assertFloors(scoreCorpus(pipeline, generateCorpus(DEFAULT_SEED + 1), HASH_KEY), `seed ${DEFAULT_SEED + 1}`);
});
