// The loader's message-age histogram: seconds from each message's Kafka timestamp to its insert.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { loaderMetrics, observeMessageAges } from '../../../src/loader/metrics.js';

test('message ages: one observation per message, seconds since its timestamp, never negative', async () => {
  const registry = new Registry();
  const m = loaderMetrics(registry);
  const now = 1_800_000_000_000;
  const messages = [now - 1500, now - 250, now + 2000 /* a producer clock ahead */].map((t) => ({
    timestamp: String(t),
  }));
  observeMessageAges(m, { topic: 'otlp_spans', messages: [...messages, { timestamp: '' }] }, now);
  type Sample = { metricName?: string; labels: Record<string, unknown>; value: number };
  const values = ((await m.messageAge.get()).values as Sample[]).filter((v) => v.labels.topic === 'otlp_spans');
  const of = (suffix: string, le?: number) =>
    values.find((v) => v.metricName === `sieve_loader_message_age_seconds${suffix}` && v.labels.le === le)?.value;
  assert.equal(of('_count'), 3, 'the message without a timestamp is not counted');
  assert.equal(of('_sum'), 1.75);
  assert.deepEqual([of('_bucket', 0.1), of('_bucket', 0.25), of('_bucket', 1), of('_bucket', 2)], [1, 2, 2, 3]);
});
