/**
 * Shared setup for tests and benchmarks that run the receiver against the real Kafka broker:
 * identity pipelines, preset configs with per-test topics, topic creation and clean-up.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { loadSieveConfig } from '../../src/config/index.js';
import { ensureTopics } from '../../src/kafka/exporter.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import { hexToBytes } from '../../src/otlp/ids.js';
import type { ExportTraceServiceRequest, Signal } from '../../src/otlp/model.js';
import type { KafkaExporterSettings, SieveConfig, SignalPipeline } from '../../src/pipeline/api.js';
import { until } from './until.js';

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const ROOT = join(import.meta.dirname, '..', '..');

export interface IdentityPipelineOptions {
  topic: string;
  clientId?: string;
  batchTimeoutMs?: number;
  partitionTracesById?: boolean;
}

/** A pipeline with no processors that exports uncompressed to `topic` (acks from all replicas). */
export function identityPipeline<S extends Signal>(signal: S, opts: IdentityPipelineOptions): SignalPipeline<S> {
  return {
    signal,
    id: signal,
    processorIds: [],
    process: (request) => ({ request, droppedItems: 0 }),
    passThrough: true,
    ...(opts.batchTimeoutMs !== undefined
      ? { batch: { sendBatchSize: 8192, sendBatchMaxSize: 0, timeoutMs: opts.batchTimeoutMs } }
      : {}),
    exporter: exporterSettings(opts.topic, {
      ...(opts.clientId !== undefined ? { clientId: opts.clientId } : {}),
      ...(opts.partitionTracesById !== undefined ? { partitionTracesById: opts.partitionTracesById } : {}),
    }),
  };
}

/** Kafka exporter settings for `topic`: otlp_proto, uncompressed, acks from all replicas, 5 s per produce; `overrides` win. */
export function exporterSettings(topic: string, overrides: Partial<KafkaExporterSettings> = {}): KafkaExporterSettings {
  return {
    id: 'kafka',
    brokers: BROKERS,
    clientId: 'test',
    topic,
    encoding: 'otlp_proto',
    partitionTracesById: false,
    compression: 'none',
    compressionLevel: -1,
    maxMessageBytes: 1_000_000,
    requiredAcks: -1,
    timeoutMs: 5000,
    ...overrides,
  };
}

/** A preset from collector-config/ with its `otlp_*` topics renamed to `<prefix>_otlp_*`. */
export function presetWithTopics(preset: string, prefix: string): string {
  const yaml = readFileSync(join(ROOT, 'collector-config', preset), 'utf8').replace(
    /topic: (otlp_\w+)/g,
    `topic: ${prefix}_$1`,
  );
  if (!yaml.includes(`${prefix}_otlp_spans`)) throw new Error(`${preset}: no otlp_spans topic to rename`);
  return yaml;
}

/** Loads `presetWithTopics` from `dir` with a throw-away HMAC key (the presets require one). */
export function loadPresetWithTopics(preset: string, prefix: string, dir: string, hashKey: string): SieveConfig {
  const file = join(dir, preset);
  writeFileSync(file, presetWithTopics(preset, prefix));
  const previous = process.env.SIEVE_HASH_KEY;
  process.env.SIEVE_HASH_KEY = hashKey;
  try {
    return loadSieveConfig(file);
  } finally {
    if (previous === undefined) delete process.env.SIEVE_HASH_KEY;
    else process.env.SIEVE_HASH_KEY = previous;
  }
}

/**
 * Creates the topics (ensureTopics' default partition count unless given), retrying while the broker
 * is (re)starting (other suites may restart it) or, just started, does not serve a new topic yet.
 */
export async function ensureTopicsRetry(names: string[], timeoutMs = 60_000, partitions?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ensureTopics(BROKERS, names, partitions);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Creates `topic` with topic-level settings (e.g. a `max.message.bytes` below the broker's). */
export async function createTopicWithConfig(topic: string, config: Record<string, string>): Promise<void> {
  const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }],
    });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes the topics; missing topics are not an error. */
export async function deleteTopics(names: string[]): Promise<void> {
  const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names }).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}

/** The values of the first `count` messages on `topic`, read from its beginning by a new consumer group. */
export async function consumeValues(topic: string, count: number): Promise<Buffer[]> {
  const consumer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).consumer({
    groupId: `read_${topic}_${randomBytes(4).toString('hex')}`,
  });
  const values: Buffer[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value as Buffer) });
  try {
    await until(`${count} messages on ${topic}`, () => values.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return values;
}

/** A pipeline file whose only pipeline sends traces to `topic` (what a loader then reads). */
export function tracesToTopicConfig(topic: string): string {
  return `receivers:
  otlp:
    protocols:
      http:
processors:
  batch:
exporters:
  kafka:
    brokers: [${BROKERS.join(', ')}]
    traces: { topic: ${topic} }
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka]
`;
}

/** Produces one message to `topic` holding one span of trace `traceId` (hex), named `name`, of service `service`. */
export async function produceOneSpan(topic: string, traceId: string, name: string, service: string): Promise<void> {
  const producer = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    const request: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: hexToBytes(traceId),
                  spanId: randomBytes(8),
                  name,
                  startTimeUnixNano: String(now),
                  endTimeUnixNano: String(now + 1000n),
                },
              ],
            },
          ],
        },
      ],
    };
    await producer.send({ topic, messages: [{ value: Buffer.from(encodeProtobuf('traces', request)) }] });
  } finally {
    await producer.disconnect();
  }
}
