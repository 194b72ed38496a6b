/**
 * OTLP/gRPC during a Kafka outage: with the real gRPC receiver (default pipeline) against the real
 * local broker, calls get OK while Kafka is up; once the broker is stopped they get UNAVAILABLE (or
 * RESOURCE_EXHAUSTED from the memory limiter) with a google.rpc.RetryInfo — retryable as the OTLP
 * specification says — within a bounded time; after the broker is started again the SAME receiver
 * answers OK again, and every acknowledged item is in Kafka.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ensureTopics, KafkaExporter } from '../../src/kafka/exporter.js';
import { countItems, decodeJson, decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import { createGrpcReceiver, type GrpcReceiver } from '../../src/receiver/grpc.js';
import { createIngestCore, type IngestCore } from '../../src/receiver/ingest.js';
import { exportCall, insecureClient } from '../support/grpc-client.js';
import { deleteTopics, loadPresetWithTopics } from '../support/kafka-harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const KAFKA_SH = join(ROOT, 'deploy', 'local', 'kafka.sh');
const id = randomBytes(4).toString('hex');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const topics = [`goutage_${id}_otlp_spans`, `goutage_${id}_otlp_logs`, `goutage_${id}_otlp_metrics`];
const SPANS_PER_REQUEST = 10;
const REQUEST_DEADLINE_MS = 15_000;

let receiver: GrpcReceiver;
let core: IngestCore;
let client: grpc.Client;
let exporter: KafkaExporter;
let kafkaStopped = false;
const dir = mkdtempSync(join(tmpdir(), 'sieve-goutage-'));

function kafka(cmd: 'start' | 'stop'): void {
  execFileSync('bash', [KAFKA_SH, cmd], { stdio: 'ignore', timeout: 120_000 });
}

before(async () => {
  const config = loadPresetWithTopics('sieve.yaml', `goutage_${id}`, dir, randomBytes(32).toString('hex'));
  assert.equal(config.pipelines.traces?.exporter.topic, topics[0]);
  await ensureTopics(brokers, topics);
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  exporter = new KafkaExporter({ brokers, clientId: `goutage-${id}`, logger, registry, probeIntervalMs: 500 });
  await exporter.start();
  core = createIngestCore({
    settings: config.receiver,
    getPipelines: () => config.pipelines,
    exporter,
    logger,
    registry,
    dev: true,
  });
  assert.ok(config.receiver.grpc !== undefined, 'the default pipeline has protocols.grpc');
  receiver = createGrpcReceiver({ settings: { ...config.receiver.grpc, host: '127.0.0.1', port: 0 }, core, logger });
  client = insecureClient(await receiver.listen());
});

after(async () => {
  if (kafkaStopped) kafka('start'); // other tests share the broker
  client?.close();
  await receiver?.close();
  core?.close();
  await exporter?.stop();
  await deleteTopics(topics);
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
function payload(): Buffer {
  const n = seq++;
  const traceId = randomBytes(16).toString('hex');
  const spans = Array.from({ length: SPANS_PER_REQUEST }, (_, i) => ({
    traceId,
    spanId: randomBytes(8).toString('hex'),
    name: `op-${n}-${i}`,
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000001000000000',
    attributes: [{ key: 'req', value: { intValue: String(n) } }],
  }));
  const json = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'outage' } }] },
        scopeSpans: [{ scope: { name: 't' }, spans }],
      },
    ],
  };
  return Buffer.from(encodeProtobuf('traces', decodeJson('traces', json)));
}

interface Outcome {
  code: grpc.status;
  retryAfterSeconds: number | undefined;
  details: string;
  ms: number;
}

let acknowledged = 0;
let ambiguous = 0; // refusals after which the data may still have reached Kafka

async function send(): Promise<Outcome> {
  const started = Date.now();
  const r = await exportCall(client, 'traces', payload(), {}, REQUEST_DEADLINE_MS);
  assert.notEqual(r.code, grpc.status.DEADLINE_EXCEEDED, `call hung for more than ${REQUEST_DEADLINE_MS} ms`);
  const out: Outcome = {
    code: r.code,
    retryAfterSeconds: r.retryAfterSeconds,
    details: r.details,
    ms: Date.now() - started,
  };
  if (out.code === grpc.status.OK) acknowledged += SPANS_PER_REQUEST;
  else if (!/not reachable|shutting down|memory limit/.test(out.details)) ambiguous++;
  return out;
}

async function readItems(expectedItems: number): Promise<number> {
  const k = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const consumer = k.consumer({ groupId: `goutage-${id}` });
  let items = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: topics[0] as string, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value) items += countItems('traces', decodeProtobuf('traces', message.value));
    },
  });
  const deadline = Date.now() + 30_000;
  while (items < expectedItems && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.disconnect();
  return items;
}

test('gRPC: UNAVAILABLE + RetryInfo while Kafka is down, recovery without restart, no acknowledged item lost', {
  timeout: 240_000,
}, async (t) => {
  // 1. Kafka up: every request is acknowledged.
  for (let i = 0; i < 20; i++) {
    const r = await send();
    assert.equal(r.code, grpc.status.OK, r.details);
  }
  const before = acknowledged;

  // 2. Kafka down.
  kafkaStopped = true;
  kafka('stop');
  try {
    const rssStart = process.memoryUsage().rss;
    let rssPeak = rssStart;
    const refusals: Outcome[] = [];
    // the first requests after the stop may take up to the send timeout; then refusals are immediate
    const deadline = Date.now() + 12_000;
    let firstRefusalAt = 0;
    while (Date.now() < deadline) {
      const batch = await Promise.all(Array.from({ length: 5 }, () => send()));
      for (const r of batch) {
        assert.ok(
          [grpc.status.OK, grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED].includes(r.code),
          `unexpected ${grpc.status[r.code]}: ${r.details}`,
        );
        if (r.code !== grpc.status.OK) {
          assert.ok(
            r.retryAfterSeconds !== undefined && r.retryAfterSeconds > 0,
            `${grpc.status[r.code]} without RetryInfo`,
          );
          refusals.push(r);
          if (firstRefusalAt === 0) firstRefusalAt = Date.now();
        }
      }
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      // keep sending for a few seconds after the first refusal
      if (firstRefusalAt !== 0 && Date.now() - firstRefusalAt > 4000) break;
    }
    t.diagnostic(
      `outage: ${refusals.length} refusals (${refusals.filter((r) => r.code === grpc.status.RESOURCE_EXHAUSTED).length} x RESOURCE_EXHAUSTED), slowest ${Math.max(...refusals.map((r) => r.ms))} ms`,
    );
    assert.ok(refusals.length > 0, 'no request was refused while Kafka was down');
    assert.ok(
      rssPeak - rssStart < 256 * 1024 * 1024,
      `RSS grew by ${((rssPeak - rssStart) / 1048576).toFixed(0)} MiB during the outage`,
    );
    assert.equal(exporter.isReady(), false);
  } finally {
    // 3. Kafka back.
    kafka('start');
    kafkaStopped = false;
  }

  // 4. The same receiver/exporter accepts data again within 30 s.
  const recoverBy = Date.now() + 30_000;
  let last: Outcome | undefined;
  while (Date.now() < recoverBy) {
    last = await send();
    if (last.code === grpc.status.OK) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(last?.code, grpc.status.OK, `no OK within 30 s of Kafka restarting: ${last?.code} ${last?.details}`);
  for (let i = 0; i < 10; i++) {
    const r = await send();
    assert.equal(r.code, grpc.status.OK, r.details);
  }
  assert.ok(acknowledged >= before + 11 * SPANS_PER_REQUEST);

  // 5. Every acknowledged item is in Kafka.
  const inKafka = await readItems(acknowledged);
  t.diagnostic(`acknowledged ${acknowledged} spans, ${inKafka} in Kafka, ${ambiguous} ambiguous refusals`);
  assert.ok(inKafka >= acknowledged, `only ${inKafka} of ${acknowledged} acknowledged spans in Kafka`);
  if (ambiguous === 0) assert.equal(inKafka, acknowledged, 'duplicates although no refusal was ambiguous');
});
