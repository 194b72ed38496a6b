import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ensureTopics, KafkaExporter } from '../../src/kafka/exporter.js';
import { buildReceiver } from '../../src/receiver/server.js';
import { BROKERS, identityPipeline } from '../support/kafka-harness.js';

test('receiver smoke: traces.pb → 200 after Kafka ack; bad body → 400; wrong type → 415', {
  timeout: 60_000,
}, async () => {
  const topic = `sieve_rx_smoke_${randomBytes(4).toString('hex')}`;
  await ensureTopics(BROKERS, [topic]);
  const logger = pino({ level: 'warn' });
  const registry = new Registry();
  const exporter = new KafkaExporter({ brokers: BROKERS, clientId: 't', logger, registry });
  await exporter.start();
  const traces = identityPipeline('traces', { topic });
  const app = await buildReceiver({
    settings: { host: '127.0.0.1', port: 0, maxRequestBodyBytes: 1 << 20 },
    getPipelines: () => ({ traces }),
    exporter,
    logger,
    registry,
    dev: true,
  });
  const body = readFileSync(new URL('../../src/otlp/testdata/traces.pb', import.meta.url));
  const ok = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: body,
  });
  assert.equal(ok.statusCode, 200, ok.body);
  const bad = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: Buffer.from([0xff, 0xff, 0xff]),
  });
  assert.equal(bad.statusCode, 400);
  const ct = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'text/plain' },
    payload: 'x',
  });
  assert.equal(ct.statusCode, 415);
  await app.close();
  await exporter.stop();
});
