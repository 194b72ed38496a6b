/**
 * PII detection quality of the default pipeline (collector-config/sieve.yaml) on the labeled corpus
 * (test/corpus/pii-corpus.jsonl): recall per detector, false positives per look-alike class, and the
 * time the pipeline took. Run: npm run bench -- pii   (BENCH_MISSES=1 lists misses by id; PII_CORPUS=<file>
 * scores another corpus, e.g. one made by generate-pii-corpus.ts --seed N --out <file>)
 */
import { loadSieveConfig } from '../../src/config/load.js';
import { readCorpus } from '../corpus/corpus.js';
import { formatMisses, formatScore, scoreCorpus } from '../corpus/score.js';

const hashKey = 'pii-bench-key';
const cfg = loadSieveConfig(process.env.SIEVE_CONFIG ?? 'collector-config/sieve.yaml', {
  env: { ...process.env, SIEVE_HASH_KEY: hashKey },
});
const pipeline = cfg.pipelines.traces;
if (!pipeline) throw new Error('no traces pipeline');
const entries = readCorpus(process.env.PII_CORPUS || undefined);

const cpu0 = process.cpuUsage();
const score = scoreCorpus(pipeline, entries, hashKey);
const cpu = process.cpuUsage(cpu0);
console.log(formatScore(score));
if (process.env.BENCH_MISSES) console.log(`\nmisses (id, key, context):\n${formatMisses(score, 100000)}`);
console.log(
  JSON.stringify({
    bench: 'pii',
    config: cfg.source,
    corpus: process.env.PII_CORPUS || 'test/corpus/pii-corpus.jsonl',
    positives: score.positivesTotal,
    negatives: score.negativesTotal,
    recall_pct: Number((score.recall * 100).toFixed(2)),
    false_positive_pct: Number((score.falsePositiveRate * 100).toFixed(2)),
    epoch_touched: ['epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns'].reduce((a, c) => {
      const t = score.negatives.get(c);
      return a + (t ? t.total - t.good : 0);
    }, 0),
    cpu_ms_first_pass: Math.round((cpu.user + cpu.system) / 1000),
  }),
);
