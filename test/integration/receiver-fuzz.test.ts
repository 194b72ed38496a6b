/**
 * Receiver fuzz: ≥ 10,000 mutated OTLP bodies (bit flips, truncations, insertions of the protobuf and
 * JSON testdata) through the real receiver into real Kafka. Every answer must be 200, 400 or 413 —
 * never 5xx, never a throw — and the app must still accept a valid request afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { KafkaExporter } from '../../src/kafka/exporter.js';
import type { Signal } from '../../src/otlp/model.js';
import type { SieveConfig } from '../../src/pipeline/api.js';
import { buildReceiver } from '../../src/receiver/server.js';
import { deleteTopics, ensureTopicsRetry, identityPipeline } from '../support/kafka-harness.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const id = randomBytes(4).toString('hex');
const topic = `sieve_rx_fuzz_${id}`;
const TESTDATA = join(import.meta.dirname, '..', '..', 'src', 'otlp', 'testdata');
const SIGNALS = ['traces', 'logs', 'metrics'] as const;
const PATHS: Record<Signal, string> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };

let app: FastifyInstance;
let exporter: KafkaExporter;

before(
  async () => {
    await ensureTopicsRetry([topic]);
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    exporter = new KafkaExporter({ brokers, clientId: `fuzz-${id}`, logger, registry });
    await exporter.start();
    const pipe = { topic, clientId: 'fuzz', batchTimeoutMs: 5 };
    const pipelines: SieveConfig['pipelines'] = {
      traces: identityPipeline('traces', pipe),
      logs: identityPipeline('logs', pipe),
      metrics: identityPipeline('metrics', pipe),
    };
    app = await buildReceiver({
      settings: { host: '127.0.0.1', port: 0, maxRequestBodyBytes: 1 << 20 },
      getPipelines: () => pipelines,
      exporter,
      logger,
      registry,
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

/** Small deterministic PRNG (mulberry32) so a failure can be reproduced from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JSON_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  'null',
  '-1',
  '1e999',
  '"ff"',
  '\\u0000',
  '"traceId"',
  'true',
  '0x10',
  '18446744073709551616',
];

function mutate(src: Buffer, rand: () => number, json: boolean): Buffer {
  const b = Buffer.from(src);
  const n = b.length;
  const pos = () => Math.floor(rand() * Math.max(1, n));
  switch (Math.floor(rand() * 5)) {
    case 0: {
      // flip 1..8 bits
      const flips = 1 + Math.floor(rand() * 8);
      for (let i = 0; i < flips; i++) {
        const p = pos();
        b[p] = (b[p] as number) ^ (1 << Math.floor(rand() * 8));
      }
      return b;
    }
    case 1:
      return b.subarray(0, pos()); // truncation
    case 2: {
      // insert random bytes (or a JSON token)
      const p = pos();
      const ins =
        json && rand() < 0.7
          ? Buffer.from(JSON_TOKENS[Math.floor(rand() * JSON_TOKENS.length)] as string)
          : randomBytesFrom(rand, 1 + Math.floor(rand() * 16));
      return Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
    }
    case 3: {
      // delete a range
      const p = pos();
      return Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + Math.floor(rand() * 32))]);
    }
    default: {
      // overwrite a byte with an interesting value
      const p = pos();
      b[p] = [0x00, 0xff, 0x7f, 0x80, 0x0a, 0x12, 0x22][Math.floor(rand() * 7)] as number;
      return b;
    }
  }
}

function randomBytesFrom(rand: () => number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

test('≥ 10,000 mutated bodies: only 200/400/413, never 5xx; a valid request still works', {
  timeout: 120_000,
}, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const rand = rng(seed);
  const inputs = SIGNALS.flatMap((signal) => [
    { signal, json: false, body: readFileSync(join(TESTDATA, `${signal}.pb`)) },
    { signal, json: true, body: readFileSync(join(TESTDATA, `${signal}.json`)) },
  ]);
  const PER_INPUT = 1700; // 6 inputs → 10,200 bodies
  const counts: Record<number, number> = {};
  const jobs: Array<{ signal: Signal; json: boolean; body: Buffer }> = [];
  for (const input of inputs) {
    for (let i = 0; i < PER_INPUT; i++)
      jobs.push({ signal: input.signal, json: input.json, body: mutate(input.body, rand, input.json) });
  }
  let next = 0;
  const CONCURRENCY = 32;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as (typeof jobs)[number];
      const res = await app.inject({
        method: 'POST',
        url: PATHS[job.signal],
        headers: { 'content-type': job.json ? 'application/json' : 'application/x-protobuf' },
        payload: job.body,
      });
      counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
      assert.ok(
        [200, 400, 413].includes(res.statusCode),
        `seed ${seed}: ${job.signal} ${job.json ? 'json' : 'protobuf'} body ${job.body.toString('base64')} → ${res.statusCode} ${res.body}`,
      );
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  assert.ok(jobs.length >= 10_000);
  assert.ok((counts[200] ?? 0) > 0 && (counts[400] ?? 0) > 0, `seed ${seed}: status mix ${JSON.stringify(counts)}`);

  for (const input of inputs) {
    const ok = await app.inject({
      method: 'POST',
      url: PATHS[input.signal],
      headers: { 'content-type': input.json ? 'application/json' : 'application/x-protobuf' },
      payload: input.body,
    });
    assert.equal(ok.statusCode, 200, ok.body);
  }
});
