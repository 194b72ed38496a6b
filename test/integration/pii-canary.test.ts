/**
 * PII canary: payloads carrying known PII in every place a pipeline must scrub go through the real
 * receiver with the default pipeline (collector-config/sieve.yaml) into real Kafka, as protobuf and
 * as JSON. The raw bytes of every Kafka message must contain none of the clear-text values, and the
 * hashed identifiers must be the expected HMAC-SHA256 values — also for the attribute names of the
 * design documents (`user_id`, `user_email`), with no custom config. Look-alikes that are not PII
 * (an order id failing Luhn, versions, epoch timestamps, a UUID) reach Kafka byte for byte.
 */

import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ensureTopics, KafkaExporter } from '../../src/kafka/exporter.js';
import { countItems, decodeJson, decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { Signal } from '../../src/otlp/model.js';
import { buildReceiver } from '../../src/receiver/server.js';
import { deleteTopics, loadPresetWithTopics } from '../support/kafka-harness.js';

const id = randomBytes(4).toString('hex');
const HASH_KEY = randomBytes(32).toString('hex');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topics: Record<Signal, string> = {
  traces: `canary_${id}_otlp_spans`,
  logs: `canary_${id}_otlp_logs`,
  metrics: `canary_${id}_otlp_metrics`,
};

/** Clear-text values that must never reach Kafka. */
const PII = {
  email: `jane.${id}@example.com`,
  phone: '+1 415-555-0132',
  card: '4111 1111 1111 1111',
  ssn: '123-45-6789',
  ipv4: '203.0.113.77',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  apiKey: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345',
  iban: 'DE89370400440532013000',
  userId: `user-${id}`,
  password: `hunter2-${id}`,
  /** the design documents' spellings: attribute keys `user_id`, `user_email` */
  snakeUserId: `acct-${id}`,
  snakeUserEmail: `sam.${id}@example.org`,
};

/** look-alikes that must survive the default pipeline byte for byte */
const LOOKALIKES: Record<string, string> = {
  'order.id': '4111111111111112', // 16 digits, fails Luhn
  'invoice.number': '1234567890123456',
  'app.version': '1.2.3.4',
  'build.version': '10.0.1.2',
  'event.time_unix_nano': '1700000000123456789',
  'job.started_ms': '1700000000123',
  'cache.expires_us': '1700000000123456',
  'request.id': `550e8400-e29b-41d4-a716-${id}0000`,
  'log.line': `order 4111111111111112 shipped by agent version 2.4.1.0 at ts=1700000000123456 req=550e8400-e29b-41d4-a716-446655440000`,
};
const hmac = (v: string) => createHmac('sha256', HASH_KEY).update(v).digest('hex');

const str = (v: string) => ({ stringValue: v });
const kv = (key: string, v: string) => ({ key, value: str(v) });
const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const T0 = '1700000000123456789';
const T1 = '1700000001123456789';

const resource = {
  attributes: [kv('service.name', 'checkout'), kv('user.id', PII.userId), kv('host.note', `owner ${PII.email}`)],
};
const scope = { name: 'canary', attributes: [kv('scope.contact', PII.phone)] };

const payloads: Record<Signal, object> = {
  traces: {
    resourceSpans: [
      {
        resource,
        scopeSpans: [
          {
            scope,
            spans: [
              {
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                name: `lookup ${PII.email}`,
                kind: 2,
                startTimeUnixNano: T0,
                endTimeUnixNano: T1,
                attributes: [
                  kv('user.id', PII.userId),
                  kv('user_id', PII.snakeUserId),
                  kv('user_email', PII.snakeUserEmail),
                  ...Object.entries(LOOKALIKES).map(([k, v]) => kv(k, v)),
                  { key: 'event.time_int', value: { intValue: '1700000000123456789' } },
                  kv('password', PII.password),
                  kv('http.request.header.authorization', `Bearer ${PII.jwt}`),
                  kv('payment.note', `card ${PII.card}`),
                  kv('client.ssn', PII.ssn),
                  {
                    key: 'nested',
                    value: {
                      arrayValue: {
                        values: [str(PII.ipv4), { kvlistValue: { values: [kv('deep', `key ${PII.apiKey}`)] } }],
                      },
                    },
                  },
                ],
                events: [{ timeUnixNano: T0, name: `mail sent to ${PII.email}`, attributes: [kv('iban', PII.iban)] }],
                links: [{ traceId: TRACE_ID, spanId: 'aaaaaaaaaaaaaaaa', attributes: [kv('peer', PII.ipv4)] }],
                status: { code: 2, message: 'failed' },
              },
            ],
          },
        ],
      },
    ],
  },
  logs: {
    resourceLogs: [
      {
        resource,
        scopeLogs: [
          {
            scope,
            logRecords: [
              {
                timeUnixNano: T0,
                severityNumber: 9,
                severityText: 'INFO',
                body: str(`login by ${PII.email} from ${PII.ipv4}`),
              },
              {
                timeUnixNano: T1,
                severityNumber: 17,
                body: { kvlistValue: { values: [kv('msg', `card ${PII.card} declined`), kv('ssn', PII.ssn)] } },
                attributes: [kv('user.id', PII.userId)],
                traceId: TRACE_ID,
                spanId: SPAN_ID,
              },
            ],
          },
        ],
      },
    ],
  },
  metrics: {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope,
            metrics: [
              {
                name: 'logins',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      timeUnixNano: T1,
                      asInt: '3',
                      attributes: [kv('user.email', PII.email), kv('user.id', PII.userId)],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  },
};

let app: FastifyInstance;
let exporter: KafkaExporter;
const dir = mkdtempSync(join(tmpdir(), 'sieve-canary-'));

before(async () => {
  const config = loadPresetWithTopics('sieve.yaml', `canary_${id}`, dir, HASH_KEY);
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    assert.equal(config.pipelines[signal]?.exporter.topic, topics[signal]);
  }
  await ensureTopics(brokers, Object.values(topics));
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  exporter = new KafkaExporter({ brokers, clientId: `canary-${id}`, logger, registry });
  await exporter.start();
  app = await buildReceiver({
    settings: config.receiver,
    getPipelines: () => config.pipelines,
    exporter,
    logger,
    registry,
    dev: true,
  });
  await app.ready();
});

after(async () => {
  await app?.close();
  await exporter?.stop();
  await deleteTopics(Object.values(topics));
  rmSync(dir, { recursive: true, force: true });
});

/** Reads a topic from the beginning until `expectedItems` items arrived, then 1 s of silence. */
async function readTopic(signal: Signal, expectedItems: number): Promise<Buffer[]> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `canary-${id}-${signal}` });
  const values: Buffer[] = [];
  let items = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: topics[signal], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!message.value) return;
      values.push(message.value);
      items += countItems(signal, decodeProtobuf(signal, message.value));
    },
  });
  const deadline = Date.now() + 30_000;
  while (items < expectedItems && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  assert.equal(items, expectedItems, `${signal}: items in Kafka`);
  return values;
}

test('no clear-text PII reaches Kafka, for every signal, as protobuf and JSON', async () => {
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const path = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' }[signal];
    const asJson = await app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payloads[signal]),
    });
    assert.equal(asJson.statusCode, 200, asJson.body);
    const asProto = await app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-protobuf' },
      payload: Buffer.from(encodeProtobuf(signal, decodeJson(signal, payloads[signal]))),
    });
    assert.equal(asProto.statusCode, 200, asProto.body);
  }
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    // two requests (JSON + protobuf); the batch processor may merge them into one message
    const expected = 2 * countItems(signal, decodeJson(signal, payloads[signal]));
    const messages = await readTopic(signal, expected);
    const all = Buffer.concat(messages);
    for (const [name, value] of Object.entries(PII)) {
      assert.equal(all.includes(value), false, `${signal}: clear-text ${name} (${value}) reached Kafka`);
    }
    assert.ok(all.includes(hmac(PII.userId)), `${signal}: user.id is stored as its HMAC-SHA256`);
    if (signal !== 'traces') continue;
    assert.ok(all.includes(hmac(PII.snakeUserId)), 'user_id is stored as its HMAC-SHA256');
    assert.ok(all.includes(hmac(PII.snakeUserEmail)), 'user_email is stored as its HMAC-SHA256');
    let spansSeen = 0;
    for (const m of messages)
      for (const rs of decodeProtobuf('traces', m).resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const span of ss.spans ?? []) {
            spansSeen++;
            const attrs = span.attributes ?? [];
            const get = (k: string) => attrs.find((a) => a.key === k)?.value;
            for (const [k, v] of Object.entries(LOOKALIKES)) {
              assert.equal(get(k)?.stringValue, v, `look-alike ${k} changed`);
              assert.ok(all.includes(Buffer.from(v)), `look-alike ${k}: its bytes are in the Kafka message`);
            }
            assert.equal(String(get('event.time_int')?.intValue), '1700000000123456789');
            assert.equal(get('user_id')?.stringValue, hmac(PII.snakeUserId));
            assert.equal(get('user_email')?.stringValue, hmac(PII.snakeUserEmail));
          }
    assert.equal(spansSeen, 2, 'one span per request (JSON and protobuf)');
  }
});
