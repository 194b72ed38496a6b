// retry_on_failure against the real broker: a produce that fails (the topic does not exist yet) is
// retried while the request waits, and succeeds once the topic is there; without retry_on_failure
// the request fails at once with a retryable error (the receiver answers 503). Needs Kafka.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter, KafkaUnavailableError } from '../../src/kafka/exporter.js';
import { decodeProtobuf } from '../../src/otlp/codec.js';
import type { KafkaExporterSettings } from '../../src/pipeline/api.js';
import { BROKERS, deleteTopics, ensureTopicsRetry, exporterSettings } from '../support/kafka-harness.js';

const id = randomBytes(4).toString('hex');
const created: string[] = [];
after(() => deleteTopics(created));

const traces = () => decodeProtobuf('traces', readFileSync('src/otlp/testdata/traces.pb'));
function settings(topic: string, retry?: KafkaExporterSettings['retry']): KafkaExporterSettings {
  return exporterSettings(topic, { clientId: 'retry-test', timeoutMs: 3000, ...(retry ? { retry } : {}) });
}

test('retry_on_failure: the failed produce is retried until the topic exists; without it the request fails at once', async () => {
  const exporter = new KafkaExporter({
    brokers: BROKERS,
    clientId: 'retry-test',
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    probeIntervalMs: 200,
  });
  await exporter.start();
  try {
    const missing = `retry_missing_${id}`;
    await assert.rejects(exporter.export('traces', traces(), settings(missing)), KafkaUnavailableError);
    // the failure made the exporter not ready until its probe reaches the cluster again
    const deadline = Date.now() + 30_000;
    while (!exporter.isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(exporter.isReady());

    const later = `retry_later_${id}`;
    created.push(later);
    const retry = {
      enabled: true,
      initialIntervalMs: 500,
      randomizationFactor: 0,
      multiplier: 1.5,
      maxIntervalMs: 2000,
      maxElapsedMs: 60_000,
    };
    let settled = false;
    const pending = exporter.export('traces', traces(), settings(later, retry)).finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(settled, false, 'still retrying while the topic is missing');
    await ensureTopicsRetry([later]);
    await pending; // acknowledged once the topic exists
  } finally {
    await exporter.stop();
  }
});
