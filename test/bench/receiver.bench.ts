/**
 * Receiver end-to-end throughput: the receiver in-process listening on 127.0.0.1:0 with a unique topic
 * set, against the real local Kafka. BENCH_CLIENTS (default 8) concurrent fetch clients POST protobuf
 * 512-span batches (20 attributes per span, trace ids varied per request) for BENCH_SECONDS (default 15).
 * Prints spans/s accepted (200), p50/p99 request latency and peak RSS.
 *
 *   SIEVE_BENCH_PIPELINE=none|default   (unset: both, plus the default pipeline's cost in %)
 *   node --import tsx test/bench/receiver.bench.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadSieveConfig } from '../../src/config/load.js';
import { ensureTopics, KafkaExporter } from '../../src/kafka/exporter.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../src/otlp/model.js';
import { buildReceiver } from '../../src/receiver/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const SPANS = 512;
const TRACES_PER_BATCH = 16;

type Mode = 'none' | 'default';
const modeEnv = process.env.SIEVE_BENCH_PIPELINE;
if (modeEnv !== undefined && modeEnv !== 'none' && modeEnv !== 'default')
  throw new Error('SIEVE_BENCH_PIPELINE must be none or default');
const modes: Mode[] = modeEnv === undefined ? ['none', 'default'] : [modeEnv];

/** A 512-span batch; returns its encoding and the offsets of every trace id in it. */
function template(): { bytes: Buffer; traceIdOffsets: number[] } {
  const traceIds = Array.from({ length: TRACES_PER_BATCH }, () => randomBytes(16));
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    const attributes: KeyValue[] = [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/api/v1/orders/{id}' } },
      { key: 'url.full', value: { stringValue: `https://shop.example.com/api/v1/orders/${i}?ref=mail` } },
      { key: 'http.response.status_code', value: { intValue: 200 } },
      { key: 'server.address', value: { stringValue: 'orders.internal' } },
      { key: 'server.port', value: { intValue: 8080 } },
      { key: 'user.id', value: { stringValue: `user-${i % 97}` } },
      { key: 'user.email', value: { stringValue: `customer${i % 97}@example.com` } },
      { key: 'client.address', value: { stringValue: `203.0.113.${i % 250}` } },
      { key: 'db.system', value: { stringValue: 'postgresql' } },
      { key: 'db.statement', value: { stringValue: 'SELECT * FROM orders WHERE id = $1' } },
      { key: 'thread.id', value: { intValue: i % 16 } },
      { key: 'feature.flag', value: { boolValue: i % 2 === 0 } },
      { key: 'retry.count', value: { intValue: 0 } },
      { key: 'cache.hit', value: { boolValue: false } },
      { key: 'order.total', value: { doubleValue: 12.5 + i } },
      {
        key: 'note',
        value: { stringValue: i % 10 === 0 ? 'call +1 415-555-0132 about card 4111 1111 1111 1111' : 'plain note' },
      },
      { key: 'region', value: { stringValue: 'eu-west-1' } },
      { key: 'tenant', value: { stringValue: `tenant-${i % 7}` } },
      { key: 'component', value: { stringValue: 'http' } },
    ];
    spans.push({
      traceId: traceIds[i % TRACES_PER_BATCH],
      spanId: randomBytes(8),
      name: `GET /api/v1/orders/{id}`,
      kind: 2,
      startTimeUnixNano: 1_700_000_000_000_000_000n + BigInt(i),
      endTimeUnixNano: 1_700_000_000_500_000_000n + BigInt(i),
      attributes,
    } as unknown as Span);
  }
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  } as unknown as ExportTraceServiceRequest;
  const bytes = Buffer.from(encodeProtobuf('traces', req));
  const traceIdOffsets: number[] = [];
  for (const t of traceIds) {
    for (let at = bytes.indexOf(t); at !== -1; at = bytes.indexOf(t, at + 1)) traceIdOffsets.push(at);
  }
  if (traceIdOffsets.length < SPANS) throw new Error(`found ${traceIdOffsets.length} trace ids in the template`);
  return { bytes, traceIdOffsets };
}

interface Result {
  mode: Mode;
  spansPerSec: number;
  requests: number;
  refused: number;
  p50: number;
  p99: number;
  peakRssMiB: number;
}

async function run(mode: Mode): Promise<Result> {
  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'sieve-bench-'));
  let yaml = readFileSync(join(ROOT, 'collector-config', 'sieve.yaml'), 'utf8');
  yaml = yaml.replace(/topic: (otlp_\w+)/g, `topic: bench_${id}_$1`);
  if (mode === 'none') yaml = yaml.replace(/processors: \[[^\]\n]*\]/g, 'processors: [batch]');
  writeFileSync(join(dir, 'sieve.yaml'), yaml);
  const config = loadSieveConfig(join(dir, 'sieve.yaml'), {
    env: { ...process.env, SIEVE_HASH_KEY: randomBytes(32).toString('hex') },
  });
  const topics = [`bench_${id}_otlp_spans`, `bench_${id}_otlp_logs`, `bench_${id}_otlp_metrics`];
  await ensureTopics(brokers, topics);
  const logger = pino({ level: 'silent' });
  const registry = new Registry();
  const exporter = new KafkaExporter({ brokers, clientId: `bench-${id}`, logger, registry });
  await exporter.start();
  const app = await buildReceiver({
    settings: config.receiver,
    getPipelines: () => config.pipelines,
    exporter,
    logger,
    registry,
    dev: true,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/traces`;

  const { bytes, traceIdOffsets } = template();
  let seq = 0;
  const body = (): Buffer => {
    const b = Buffer.from(bytes);
    const n = seq++;
    for (const at of traceIdOffsets) b.writeUInt32BE(n >>> 0, at);
    return b;
  };

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  const latencies: number[] = [];
  let accepted = 0;
  let refused = 0;
  const started = performance.now();
  const endAt = started + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: body(),
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status === 200) accepted += SPANS;
      else {
        refused++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CLIENTS }, client));
  } finally {
    const elapsed = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await app.close();
    await exporter.stop();
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    // biome-ignore lint/correctness/noUnsafeFinally: results are returned after cleanup
    return {
      mode,
      spansPerSec: accepted / elapsed,
      requests: latencies.length,
      refused,
      p50: q(0.5),
      p99: q(0.99),
      peakRssMiB: peakRss / 1048576,
    };
  }
}

const results: Result[] = [];
for (const mode of modes) {
  const r = await run(mode);
  results.push(r);
  console.log(
    `receiver[${mode}] ${CLIENTS} clients x ${SECONDS}s, ${SPANS}-span batches: ${Math.round(r.spansPerSec).toLocaleString('en-US')} spans/s accepted, ` +
      `${r.requests} requests (${r.refused} refused), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
  );
}
const none = results.find((r) => r.mode === 'none');
const dflt = results.find((r) => r.mode === 'default');
if (none !== undefined && dflt !== undefined && none.spansPerSec > 0) {
  console.log(
    `default pipeline cost: ${(((none.spansPerSec - dflt.spansPerSec) / none.spansPerSec) * 100).toFixed(1)}% of throughput`,
  );
}
