/**
 * Receiver end-to-end throughput: the receiver in this process listening on 127.0.0.1:0 with a unique
 * topic set, against the real local Kafka. BENCH_CLIENTS (default 48) keep-alive clients in a separate
 * process (support/otlp-load.ts) POST protobuf 512-span batches (20 attributes per span, trace ids
 * varied per request) for BENCH_SECONDS (default 15). Prints spans/s accepted (200), p50/p99 request
 * latency and the receiver's peak RSS. BENCH_OFFERED=<spans/s> makes the clients pace themselves to that
 * rate (open loop), e.g. twice the measured capacity for the overload figure (429s instead of growth).
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
import { buildReceiver } from '../../src/receiver/server.js';
import { type LoadResult, runLoadInChildProcess, SPANS_PER_REQUEST } from './support/otlp-load.js';

const ROOT = join(import.meta.dirname, '..', '..');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 48);
/** open loop: the clients together offer this many spans/s (e.g. 2× capacity for the overload figure) */
const OFFERED = process.env.BENCH_OFFERED ? Number(process.env.BENCH_OFFERED) : undefined;

type Mode = 'none' | 'default';
const modeEnv = process.env.SIEVE_BENCH_PIPELINE;
if (modeEnv !== undefined && modeEnv !== 'none' && modeEnv !== 'default')
  throw new Error('SIEVE_BENCH_PIPELINE must be none or default');
const modes: Mode[] = modeEnv === undefined ? ['none', 'default'] : [modeEnv];

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

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);
  let load: LoadResult;
  try {
    load = await runLoadInChildProcess(url, CLIENTS, SECONDS, OFFERED);
  } finally {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await app.close();
    await exporter.stop();
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    mode,
    spansPerSec: load.accepted / load.seconds,
    requests: load.accepted / SPANS_PER_REQUEST + load.refused,
    refused: load.refused,
    p50: load.latenciesMs[0],
    p99: load.latenciesMs[1],
    peakRssMiB: peakRss / 1048576,
  };
}

const results: Result[] = [];
for (const mode of modes) {
  const r = await run(mode);
  results.push(r);
  console.log(
    `receiver[${mode}] ${CLIENTS} clients${OFFERED ? ` offering ${OFFERED.toLocaleString('en-US')} spans/s` : ''} x ${SECONDS}s, ${SPANS_PER_REQUEST}-span batches: ${Math.round(r.spansPerSec).toLocaleString('en-US')} spans/s accepted, ` +
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
