/**
 * The transform processor in the receiver, against the real Kafka broker: the example agent config
 * (collector-config/examples/agent-events.yaml) names unnamed spans and hashes user_id before the
 * data reaches Kafka; a statement failing under error_mode propagate refuses the request with 400
 * and nothing of it reaches Kafka, while the next request goes through.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadConfigText } from '../../src/config/load.js';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import { decodeStatus } from '../../src/otlp/codec.js';
import type { SieveConfig } from '../../src/pipeline/api.js';
import { buildReceiver } from '../../src/receiver/server.js';
import { BROKERS, deleteTopics, ensureTopicsRetry } from '../support/kafka-harness.js';

// biome-ignore lint/suspicious/noExplicitAny: OTLP/JSON objects read back from Kafka
type J = any;

const id = randomBytes(4).toString('hex');
const topic = `sieve_tx_${id}_events`;
const KEY = `transform-it-${id}`;
const logger = pino({ level: 'silent' });

/**
 * The example config on this test's broker and topic, its receiver started here over HTTP
 * (collector-dropin.test.ts runs it whole under `sieve all`, over gRPC and HTTP).
 */
function config(): SieveConfig {
  const text = readFileSync('collector-config/examples/agent-events.yaml', 'utf8')
    .replace('[ "kafka:9092" ]', JSON.stringify(BROKERS))
    .replace('topic: agent_events_v1', `topic: ${topic}`)
    .replace('timeout: 2s', 'timeout: 20ms')
    .replace(
      '      processors: [memory_limiter, attributes, transform, batch]',
      '      processors: [memory_limiter, attributes, transform, transform/strict, batch]',
    )
    .replace(
      'exporters:\n  kafka:',
      [
        '  transform/strict:',
        '    error_mode: propagate',
        '    trace_statements:',
        '      - context: span',
        '        statements:',
        '          - set(attributes["tokens"], Int(attributes["tokens_str"])) where attributes["tokens_str"] != nil',
        'exporters:',
        '  kafka:',
      ].join('\n'),
    );
  const r = loadConfigText(text, 'agent-events.yaml', { env: { SIEVE_HASH_KEY: KEY } });
  assert.deepEqual(r.issues, []);
  return r.config as SieveConfig;
}

let exporter: KafkaExporter;
let app: FastifyInstance;

before(
  async () => {
    await ensureTopicsRetry([topic]);
    const cfg = config();
    exporter = new KafkaExporter({ brokers: BROKERS, clientId: `tx-${id}`, logger, registry: new Registry() });
    await exporter.start();
    app = await buildReceiver({
      settings: { host: '127.0.0.1', port: 0, maxRequestBodyBytes: 1 << 20 },
      getPipelines: () => cfg.pipelines,
      exporter,
      logger,
      registry: new Registry(),
      dev: true,
    });
    await app.ready();
  },
  { timeout: 90_000 },
);

after(
  async () => {
    await app?.close();
    await exporter?.stop();
    await deleteTopics([topic]);
  },
  { timeout: 30_000 },
);

function payload(marker: string, tokens: string) {
  const s = (key: string, v: string) => ({ key, value: { stringValue: v } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [s('service.name', 'agent')] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name: '',
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000001000000000',
                attributes: [
                  s('agent', 'planner'),
                  s('route', '/v1/chat'),
                  s('user_email', 'alice@example.com'),
                  s('user_id', 'u-42'),
                  s('tokens_str', tokens),
                  s('marker', marker),
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

async function post(body: object) {
  return app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
}

/** Spans read from the topic (as OTLP/JSON) until spans carry every marker, or 30 s. */
async function readUntilMarkers(markers: string[]): Promise<J[]> {
  const consumer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `tx-${id}-${randomBytes(4).toString('hex')}`,
  });
  const spans: J[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      const req = JSON.parse(message.value.toString('utf8')) as J; // encoding: json (otlp_json)
      for (const rs of req.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
    },
  });
  const has = () => markers.every((m) => spans.some((sp) => attr(sp, 'marker') === m));
  const deadline = Date.now() + 30_000;
  while (!has() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  assert.ok(has(), `spans ${markers.join(', ')} did not arrive in Kafka`);
  return spans;
}

const attr = (span: J, key: string) => {
  const v = (span.attributes ?? []).find((a: J) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue;
};

test('transform and hashing take effect before Kafka; a propagate failure refuses the request and writes nothing', {
  timeout: 120_000,
}, async () => {
  const ok1 = await post(payload('first', '12'));
  assert.equal(ok1.statusCode, 200, ok1.body);

  const refused = await post(payload('refused', 'many'));
  assert.equal(refused.statusCode, 400);
  const status = decodeStatus('json', refused.body);
  assert.match(
    status.message,
    /processor transform\/strict: failed to execute statement: set\(attributes\["tokens"\], Int\(attributes\["tokens_str"\]\)\)/,
  );
  assert.match(status.message, /invalid syntax/);

  const ok2 = await post(payload('last', '7'));
  assert.equal(ok2.statusCode, 200, ok2.body);

  // the topic has several partitions: wait for both accepted requests; the refused one sent between
  // them must never show up
  const spans = await readUntilMarkers(['first', 'last']);
  const byMarker = new Map(spans.map((s) => [attr(s, 'marker'), s]));
  assert.equal(byMarker.has('refused'), false, 'nothing of the refused request reached Kafka');
  for (const [marker, tokens] of [
    ['first', '12'],
    ['last', '7'],
  ] as const) {
    const span = byMarker.get(marker);
    assert.ok(span, marker);
    assert.equal(span.name, 'planner:/v1/chat');
    assert.equal(attr(span, 'user_email'), undefined);
    assert.equal(attr(span, 'user_id'), createHmac('sha256', KEY).update('u-42').digest('hex'));
    assert.equal(String(attr(span, 'tokens')), tokens);
  }
});
