import type { ClickHouseClient } from '@clickhouse/client';
import { type Consumer, type EachBatchPayload, Kafka, logLevel, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { decodeProtobuf } from '../otlp/codec.js';
import type { Signal } from '../otlp/model.js';
import { logRows } from './logs-rows.js';
import { metricRows } from './metrics-rows.js';
import type { PricingTable } from './pricing.js';
import { traceRows } from './traces-rows.js';

export interface LoaderOptions {
  brokers: string[];
  /** topic → signal, e.g. { otlp_spans: 'traces' }. */
  topics: Record<string, Signal>;
  groupId: string;
  client: ClickHouseClient;
  database: string;
  logger: Logger;
  registry: Registry;
  pricing?: PricingTable;
  batch?: { maxRows?: number; maxBytes?: number; maxWaitMs?: number };
  /** Retry backoff bounds while ClickHouse is unavailable. */
  retry?: { initialMs?: number; maxMs?: number };
}

export interface Loader {
  stop(): Promise<void>;
  isReady(): boolean;
}

type TableRows = Map<string, string[]>;

/** Maps one decoded message to JSONEachRow lines per table. Throws on a poison message. */
export function messageToRows(
  signal: Signal,
  value: Buffer,
  pricing: PricingTable | undefined,
  onUnknown: (p: string, m: string) => void,
  into: TableRows,
): number {
  const add = (table: string, rows: Record<string, unknown>[]) => {
    if (rows.length === 0) return;
    let arr = into.get(table);
    if (!arr) into.set(table, (arr = []));
    for (const r of rows) arr.push(JSON.stringify(r));
  };
  let n = 0;
  if (signal === 'traces') {
    const rows = traceRows(decodeProtobuf('traces', value), { pricing, onUnknownModel: onUnknown });
    add('otel_traces', rows);
    n = rows.length;
  } else if (signal === 'logs') {
    const rows = logRows(decodeProtobuf('logs', value));
    add('otel_logs', rows);
    n = rows.length;
  } else {
    const byTable = metricRows(decodeProtobuf('metrics', value));
    for (const [t, rows] of Object.entries(byTable)) {
      add(t, rows);
      n += rows.length;
    }
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLoader(opts: LoaderOptions): Promise<Loader> {
  const { client, database, logger, registry } = opts;
  const maxBytes = opts.batch?.maxBytes ?? 16 * 1024 * 1024;
  const initialMs = opts.retry?.initialMs ?? 200;
  const maxMs = opts.retry?.maxMs ?? 10_000;
  const m = {
    rows: new Counter({
      name: 'sieve_loader_rows_inserted_total',
      help: 'Rows inserted into ClickHouse',
      labelNames: ['table'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'sieve_loader_insert_seconds',
      help: 'ClickHouse insert latency',
      labelNames: ['table'],
      registers: [registry],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    dlq: new Counter({
      name: 'sieve_loader_dlq_total',
      help: 'Messages sent to the DLQ',
      labelNames: ['topic'],
      registers: [registry],
    }),
    unknown: new Counter({
      name: 'sieve_loader_cost_unknown_model_total',
      help: 'GenAI spans whose model has no price',
      labelNames: ['provider', 'model'],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sieve_loader_lag',
      help: 'Messages behind the high watermark',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'sieve_loader_insert_retries_total',
      help: 'Insert attempts that failed and were retried',
      registers: [registry],
    }),
  };
  const onUnknown = (provider: string, model: string) => m.unknown.inc({ provider, model });

  const kafka = new Kafka({
    clientId: `sieve-loader-${opts.groupId}`,
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
  });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: true });
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytes,
    maxWaitTimeInMs: opts.batch?.maxWaitMs ?? 500,
    sessionTimeout: 30_000,
  });
  let ready = false;
  let stopping = false;

  async function insertWithRetry(table: string, lines: string[], token: string): Promise<void> {
    let delay = initialMs;
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        await client.command({
          query: `INSERT INTO ${database}.${table} SETTINGS insert_deduplication_token = '${token}', deduplicate_blocks_in_dependent_materialized_views = 1 FORMAT JSONEachRow\n${lines.join('\n')}`,
        });
        m.latency.observe({ table }, Number(process.hrtime.bigint() - t0) / 1e9);
        m.rows.inc({ table }, lines.length);
        ready = true;
        return;
      } catch (err) {
        if (stopping) throw err;
        ready = false;
        m.retries.inc();
        logger.warn({ err: String(err), table, retryInMs: delay }, 'ClickHouse insert failed; retrying');
        await sleep(delay);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  }

  async function eachBatch({
    batch,
    resolveOffset,
    heartbeat,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload) {
    const signal = opts.topics[batch.topic];
    if (!signal || batch.messages.length === 0) return;
    const first = batch.messages[0]!.offset;
    const last = batch.messages[batch.messages.length - 1]!.offset;
    const tables: TableRows = new Map();
    for (const msg of batch.messages) {
      try {
        messageToRows(signal, msg.value ?? Buffer.alloc(0), opts.pricing, onUnknown, tables);
      } catch (err) {
        await producer.send({
          topic: `${batch.topic}.dlq`,
          messages: [
            {
              key: msg.key,
              value: msg.value,
              headers: {
                error: String((err as Error).message ?? err),
                'original.topic': batch.topic,
                'original.partition': String(batch.partition),
                'original.offset': msg.offset,
              },
            },
          ],
        });
        m.dlq.inc({ topic: batch.topic });
        logger.warn(
          { topic: batch.topic, partition: batch.partition, offset: msg.offset, err: String(err) },
          'poison message sent to DLQ',
        );
      }
    }
    for (const [table, lines] of tables) {
      await insertWithRetry(table, lines, `${batch.topic}-${batch.partition}-${first}-${last}-${table}`);
      await heartbeat().catch(() => undefined);
    }
    if (!isRunning() || isStale()) return;
    resolveOffset(last);
    await commitOffsetsIfNecessary();
    m.lag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, Number(batch.highWatermark) - Number(last) - 1),
    );
  }

  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const dlqs = Object.keys(opts.topics)
      .map((t) => `${t}.dlq`)
      .filter((t) => !existing.has(t));
    if (dlqs.length > 0) await admin.createTopics({ topics: dlqs.map((topic) => ({ topic })), waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  await producer.connect();
  await consumer.connect();
  await client.ping();
  for (const topic of Object.keys(opts.topics)) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.max(1, Object.keys(opts.topics).length * 2),
    eachBatch,
  });
  ready = true;
  return {
    isReady: () => ready && !stopping,
    async stop() {
      stopping = true;
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
