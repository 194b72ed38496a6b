import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderBanner } from '../../../src/cli/banner.js';
import { loadSieveConfig } from '../../../src/config/index.js';

test('the start banner lists endpoints, ops ports, pipeline and processors, Kafka, ClickHouse and dev mode', () => {
  const config = loadSieveConfig('collector-config/sieve.yaml', {
    env: { SIEVE_HASH_KEY: 'ab'.repeat(32), SIEVE_OTLP_ENDPOINT: '0.0.0.0:4318', KAFKA_BROKERS: 'k1:9092' },
  });
  const text = renderBanner(
    {
      command: 'all',
      config,
      configPath: config.source,
      endpoints: [{ protocol: 'OTLP/HTTP', url: 'http://0.0.0.0:4318' }],
      ops: [
        { name: 'receiver', url: 'http://127.0.0.1:13133' },
        { name: 'loader', url: 'http://127.0.0.1:13134' },
      ],
      kafkaBrokers: ['k1:9092'],
      clickhouse: { url: 'http://127.0.0.1:8123', database: 'otel' },
      dev: true,
      devKey: { file: '/x/.data/hash.key', generated: true },
    },
    false,
  );
  assert.ok(!text.includes('\u001b['), 'no colour codes when colour is off');
  for (const expected of [
    /sieve all \(receiver \+ loader\)/,
    /OTLP\/HTTP\s+http:\/\/0\.0\.0\.0:4318 \(all interfaces\)/,
    /OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:4318/,
    /receiver http:\/\/127\.0\.0\.1:13133 · loader http:\/\/127\.0\.0\.1:13134/,
    /pipeline\s+collector-config\/sieve\.yaml/,
    /traces\s+memory_limiter, attributes\/pii, resource\/pii, redaction\/pii, batch/,
    /Kafka\s+k1:9092 → otlp_spans, otlp_logs, otlp_metrics/,
    /ClickHouse\s+http:\/\/127\.0\.0\.1:8123 database otel/,
    /dev mode: no API keys/,
    /generated a local PII hashing key in \/x\/\.data\/hash\.key/,
  ])
    assert.match(text, expected);
});
