/**
 * Kafka → ClickHouse loader.
 *
 * Per fetched batch (one topic partition): decode each otlp_proto message into JSONEachRow lines per
 * table (poison messages go to `<topic>.dlq` with the error in headers), then queue one insert job.
 * A single insert worker drains the queue in order, so decoding the next batch overlaps the current
 * insert. After every table of a job is inserted, the job's offsets are committed to Kafka
 * (offset = last + 1). Nothing is committed before its rows are in ClickHouse or the DLQ.
 *
 * Idempotence: each insert carries `insert_deduplication_token = topic-partition-first-last-table`,
 * so a retry of the same range after a crash between insert and commit is dropped by ClickHouse.
 * Before inserting, the job's range is committed as offset metadata, and whoever re-reads the
 * partition cuts its first batch to that range (ranges.ts), so the tokens repeat. After a rebalance
 * kafkajs re-reads every assigned partition from its committed offset: queued jobs of the previous
 * group generation are dropped rather than inserted next to their re-read.
 *
 * ClickHouse down: the worker retries with exponential backoff (forever, until stop); the queue fills
 * up, eachBatch stops taking new batches (so fetching pauses) and keeps heartbeating so the consumer
 * stays in its group. Memory is bounded by `maxQueuedBytes`.
 *
 * Rows ClickHouse refuses (refusals.ts): the insert is split along message boundaries until the
 * refused messages are found; they go to the DLQ with ClickHouse's error, the rest is inserted.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { type Consumer, type EachBatchPayload, Kafka, type KafkaMessage, logLevel, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KafkaClientSecurity } from '../kafka/security.js';
import { decodeProtobuf } from '../otlp/codec.js';
import { kafkaValueAsProtobuf, type TopicFormat } from '../otlp/kafka-value.js';
import type { Signal } from '../otlp/model.js';
import type { CompiledDialects, GenAiHooks } from './genai.js';
import { logRows } from './logs-rows.js';
import { metricRows } from './metrics-rows.js';
import type { PricingTable } from './pricing.js';
import { alignToRange, type OffsetRange, parseRangeMetadata, rangeMetadata } from './ranges.js';
import { isRefusedData, splitAtMessageBoundary } from './refusals.js';
import { traceRows } from './traces-rows.js';

export interface LoaderOptions {
  brokers: string[];
  /** topic → signal, e.g. { otlp_spans: 'traces' }. */
  topics: Record<string, Signal>;
  /** per topic: its encoding and, for a topic several signals share (otlp_json), those signals; default: the topic's signal, encoding detected per message */
  topicFormats?: Record<string, TopicFormat>;
  /** TLS / SASL (src/kafka/security.ts); absent: plaintext */
  security?: KafkaClientSecurity;
  groupId: string;
  client: ClickHouseClient;
  database: string;
  logger: Logger;
  registry: Registry;
  pricing?: PricingTable;
  /** AI dialect tables (default: the shipped presets, collector-config/ai-dialects.yaml) */
  dialects?: CompiledDialects;
  /**
   * maxBytes: Kafka fetch size (bytes of messages per fetch, default 16 MiB);
   * maxWaitMs: how long a fetch waits for data before returning a smaller batch (default 500 ms);
   * maxQueuedBytes: decoded-but-not-inserted message bytes before fetching pauses (default 2 × maxBytes).
   */
  batch?: { maxBytes?: number; maxWaitMs?: number; maxQueuedBytes?: number };
  /** Retry backoff bounds while ClickHouse is unavailable. */
  retry?: { initialMs?: number; maxMs?: number };
}

export interface Loader {
  stop(): Promise<void>;
  isReady(): boolean;
}

/** JSONEachRow lines per table. */
export type RowsByTable = Map<string, string[]>;

/** Pricing, dialects and counters of the GenAI columns. */
export interface GenAiRowOptions extends GenAiHooks {
  pricing?: PricingTable;
  dialects?: CompiledDialects;
}

/** Maps one decoded message to JSONEachRow lines per table. Throws on a poison message. */
export function messageToRows(signal: Signal, value: Buffer, genai: GenAiRowOptions = {}): RowsByTable {
  const out: RowsByTable = new Map();
  const add = (table: string, rows: Record<string, unknown>[]) => {
    if (rows.length > 0)
      out.set(
        table,
        rows.map((r) => JSON.stringify(r)),
      );
  };
  if (signal === 'traces') {
    add('otel_traces', traceRows(decodeProtobuf('traces', value), genai));
  } else if (signal === 'logs') {
    add('otel_logs', logRows(decodeProtobuf('logs', value)));
  } else {
    for (const [t, rows] of Object.entries(metricRows(decodeProtobuf('metrics', value), genai))) add(t, rows);
  }
  return out;
}

/** One table's lines of a job; `owner[i]` is the index (in the job's messages) of line i's message. */
interface TableLines {
  lines: string[];
  owner: number[];
}

/** JSONEachRow body as ~1 MiB chunks, so no single giant string is built. */
function* bodyChunks(lines: string[]): Generator<string> {
  const per = Math.max(1, Math.floor((1 << 20) / Math.max(1, (lines[0]?.length ?? 1) + 1)));
  for (let i = 0; i < lines.length; i += per) yield `${lines.slice(i, i + per).join('\n')}\n`;
}

/** One fetched partition batch, decoded and waiting to be inserted. */
interface InsertJob {
  topic: string;
  partition: number;
  first: string;
  last: string;
  highWatermark: string;
  tables: Map<string, TableLines>;
  /** the batch's messages, kept for the DLQ should ClickHouse refuse some of their rows */
  messages: KafkaMessage[];
  /** message bytes (for the queue bound) */
  bytes: number;
  /** the consumer group generation the batch was fetched in */
  generation: number;
}

/** A message whose rows ClickHouse refused, and why. */
interface Refusal {
  message: KafkaMessage;
  table: string;
  error: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HEARTBEAT_EVERY_MS = 3000;

export async function startLoader(opts: LoaderOptions): Promise<Loader> {
  const { client, database, logger, registry } = opts;
  const maxBytes = opts.batch?.maxBytes ?? 16 * 1024 * 1024;
  const maxQueuedBytes = opts.batch?.maxQueuedBytes ?? 2 * maxBytes;
  const initialMs = opts.retry?.initialMs ?? 200;
  const maxMs = opts.retry?.maxMs ?? 10_000;
  const m = loaderMetrics(registry);
  const genai: GenAiRowOptions = {
    pricing: opts.pricing,
    dialects: opts.dialects,
    onUnknownModel: (provider, model) => m.unknown.inc({ provider, model }),
    onInvalidUsage: (field, dialect) => m.invalidUsage.inc({ field, dialect }),
  };

  const kafka = new Kafka({
    clientId: `sieve-loader-${opts.groupId}`,
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ...opts.security,
  });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: true });
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytes,
    // kafkajs defaults to 1 MiB per partition, which would cap every insert at ~1 MiB of messages
    maxBytesPerPartition: maxBytes,
    maxWaitTimeInMs: opts.batch?.maxWaitMs ?? 500,
    sessionTimeout: 30_000,
  });
  let clickhouseOk = true;
  /** set by stop(): no new batches are queued, and a failing insert is abandoned (its batch stays uncommitted) */
  let stopping = false;
  let activeBatches = 0;
  /** consumer group generations seen (GROUP_JOIN events): batches of an earlier one are not inserted */
  let generation = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    generation++;
    heldForRange.clear(); // re-read from the committed offset in the new generation
    notify();
  });
  /** per topic:partition, the generation whose first batch was aligned to the committed range */
  const alignedIn = new Map<string, number>();
  /** per topic:partition, messages of a committed range fetched so far, waiting for the rest of it */
  const heldForRange = new Map<string, { generation: number; range: OffsetRange; messages: KafkaMessage[] }>();
  const admin = kafka.admin();

  // ---- insert queue: one worker, FIFO, so commits per partition stay in offset order ----
  const queue: InsertJob[] = [];
  let queuedBytes = 0;
  // wakes everyone waiting on the queue (the worker, batches waiting for room, stop)
  let waiters: (() => void)[] = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const changed = () => new Promise<void>((r) => waiters.push(r));

  /** Retries until the insert succeeds, stop() is called, or ClickHouse refuses the rows (thrown). */
  async function insertWithRetry(table: string, lines: string[], token: string): Promise<void> {
    let delay = initialMs;
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        await client
          .exec({
            query: `INSERT INTO ${database}.${table} FORMAT JSONEachRow`,
            values: Readable.from(bodyChunks(lines)),
            clickhouse_settings: {
              insert_deduplication_token: token,
              deduplicate_blocks_in_dependent_materialized_views: 1,
              async_insert: 0,
            },
          })
          .then((r) => r.stream.resume());
        m.latency.observe({ table }, Number(process.hrtime.bigint() - t0) / 1e9);
        m.rows.inc({ table }, lines.length);
        clickhouseOk = true;
        return;
      } catch (err) {
        if (isRefusedData(err)) {
          clickhouseOk = true; // the server answered; the rows are the problem
          throw err;
        }
        if (stopping) throw err;
        clickhouseOk = false;
        m.retries.inc();
        logger.warn({ err: String(err), table, retryInMs: delay }, 'ClickHouse insert failed; retrying');
        await sleep(delay);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  }

  /**
   * Inserts lines [start, end) of one table. When ClickHouse refuses the rows, splits along message
   * boundaries and recurses, down to single messages, which are recorded as refused.
   */
  async function insertLines(
    job: InsertJob,
    table: string,
    { lines, owner }: TableLines,
    start: number,
    end: number,
    refusals: Refusal[],
  ): Promise<void> {
    const whole = start === 0 && end === lines.length;
    // the whole job keeps the batch's range as its token, so a re-read batch deduplicates the same way
    const first = whole ? job.first : job.messages[owner[start]!]!.offset;
    const last = whole ? job.last : job.messages[owner[end - 1]!]!.offset;
    try {
      const part = whole ? lines : lines.slice(start, end);
      await insertWithRetry(table, part, `${job.topic}-${job.partition}-${first}-${last}-${table}`);
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      const mid = splitAtMessageBoundary(owner, start, end);
      if (mid === undefined) {
        refusals.push({ message: job.messages[owner[start]!]!, table, error: err.message });
        return;
      }
      await insertLines(job, table, { lines, owner }, start, mid, refusals);
      await insertLines(job, table, { lines, owner }, mid, end, refusals);
    }
  }

  /** Inserts a job and commits past it; false when the job belongs to an earlier group generation. */
  async function runJob(job: InsertJob): Promise<boolean> {
    const range = rangeMetadata(job);
    // the offset already reached, with the range about to be inserted: a re-reader repeats this range
    if (!(await commitWhileCurrent(job, job.first, range))) return false;
    const refusals: Refusal[] = [];
    for (const [table, tl] of job.tables) await insertLines(job, table, tl, 0, tl.lines.length, refusals);
    for (const r of refusals) await dlqWithRetry(job.topic, job.partition, r);
    const next = (BigInt(job.last) + 1n).toString();
    try {
      // the range stays as metadata: a reader whose position predates this commit still aligns to it
      await consumer.commitOffsets([{ topic: job.topic, partition: job.partition, offset: next, metadata: range }]);
    } catch (err) {
      // after a rebalance the partition may belong to another member, which re-reads and aligns to the range
      logger.warn(
        { err: String(err), topic: job.topic, partition: job.partition, offset: next },
        'offset commit failed',
      );
    }
    m.lag.set(
      { topic: job.topic, partition: String(job.partition) },
      Math.max(0, Number(job.highWatermark) - Number(job.last) - 1),
    );
    return true;
  }

  /** Commits, retrying while the job's generation is current; false once it is not. */
  async function commitWhileCurrent(job: InsertJob, offset: string, metadata: string): Promise<boolean> {
    let delay = initialMs;
    for (;;) {
      if (job.generation !== generation) return false;
      try {
        await consumer.commitOffsets([{ topic: job.topic, partition: job.partition, offset, metadata }]);
        // kafkajs retries a commit across a rebalance; committed in a newer generation is too late
        return job.generation === generation;
      } catch (err) {
        if (stopping) throw err;
        logger.warn(
          { err: String(err), topic: job.topic, partition: job.partition, retryInMs: delay },
          'offset commit failed; retrying',
        );
        await sleep(delay);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  }

  let workerDone: Promise<void> = Promise.resolve();
  const worker = async () => {
    while (!stopping || queue.length > 0) {
      const job = queue[0];
      if (job === undefined) {
        await changed();
        continue;
      }
      try {
        if (!(await runJob(job)))
          logger.info(
            { topic: job.topic, partition: job.partition, first: job.first, last: job.last },
            'batch of an earlier group generation dropped; it is re-read from the committed offset',
          );
      } catch (err) {
        logger.error({ err: String(err), topic: job.topic, partition: job.partition }, 'insert abandoned at stop');
        queue.length = 0; // stopping with ClickHouse down: uncommitted batches are re-read on the next start
        queuedBytes = 0;
        notify();
        return;
      }
      queue.shift();
      queuedBytes -= job.bytes;
      m.queued.set(queuedBytes);
      notify();
    }
  };

  async function sendToDlq(
    topic: string,
    partition: number,
    msg: KafkaMessage,
    reason: 'undecodable' | 'refused',
    error: string,
    table?: string,
  ) {
    await producer.send({
      topic: `${topic}.dlq`,
      messages: [
        {
          key: msg.key,
          value: msg.value,
          headers: {
            error,
            reason,
            ...(table ? { 'refused.table': table } : {}),
            'original.topic': topic,
            'original.partition': String(partition),
            'original.offset': msg.offset,
          },
        },
      ],
    });
    m.dlq.inc({ topic, reason });
    logger.warn({ topic, partition, offset: msg.offset, reason, table, err: error }, 'message sent to the DLQ');
  }

  /** From the insert worker: a refusal must reach the DLQ before its offset is committed. */
  async function dlqWithRetry(topic: string, partition: number, r: Refusal) {
    let delay = initialMs;
    for (;;) {
      try {
        return await sendToDlq(topic, partition, r.message, 'refused', r.error, r.table);
      } catch (err) {
        if (stopping) throw err;
        logger.warn({ err: String(err), topic, retryInMs: delay }, 'DLQ send failed; retrying');
        await sleep(delay);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  }

  async function eachBatch(payload: EachBatchPayload) {
    activeBatches++;
    try {
      await queueBatch(payload);
    } finally {
      activeBatches--;
      notify();
    }
  }

  async function queueBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const signal = opts.topics[batch.topic];
    if (!signal || batch.messages.length === 0 || stopping) return;
    const gen = generation;
    const open = () => isRunning() && !isStale() && !stopping && gen === generation;
    const parts = await alignToCommittedRange(batch.topic, batch.partition, batch.messages, gen);
    for (const messages of parts) {
      const job = await decodeJob(signal, batch.topic, batch.partition, batch.highWatermark, messages, gen);
      // backpressure: wait (heartbeating, so the group keeps us) until the queue has room
      while (queuedBytes > 0 && queuedBytes + job.bytes > maxQueuedBytes && open()) {
        await Promise.race([changed(), sleep(HEARTBEAT_EVERY_MS)]);
        await heartbeat().catch(() => undefined);
      }
      if (!open()) return;
      queue.push(job);
      queuedBytes += job.bytes;
      m.queued.set(queuedBytes);
      notify();
    }
    // advances the fetch position only; the commit happens after the insert
    resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
    await heartbeat().catch(() => undefined);
  }

  /**
   * The first batches of a partition in a generation: cut them to the range its previous reader was
   * inserting (committed offset metadata). A fetch that ends inside that range is held back and
   * completed by the next one, so the range is inserted whole, as before. Returns the parts to queue.
   */
  async function alignToCommittedRange(
    topic: string,
    partition: number,
    fetched: KafkaMessage[],
    gen: number,
  ): Promise<KafkaMessage[][]> {
    const key = `${topic}:${partition}`;
    let messages = fetched;
    let range: OffsetRange | undefined;
    const held = heldForRange.get(key);
    heldForRange.delete(key);
    if (held?.generation === gen) {
      messages = [...held.messages, ...fetched];
      range = held.range;
    } else if (alignedIn.get(key) !== gen) {
      const [committed] = await admin.fetchOffsets({ groupId: opts.groupId, topics: [topic] });
      alignedIn.set(key, gen); // after the read: a failed read is retried with the re-delivered batch
      range = parseRangeMetadata(committed?.partitions.find((p) => p.partition === partition)?.metadata);
    }
    const { parts, short } = alignToRange(messages, range);
    if (short && range !== undefined) {
      heldForRange.set(key, { generation: gen, range, messages });
      return [];
    }
    return parts;
  }

  /** Decodes messages into one insert job; undecodable ones go to the DLQ. */
  async function decodeJob(
    signal: Signal,
    topic: string,
    partition: number,
    highWatermark: string,
    messages: KafkaMessage[],
    gen: number,
  ): Promise<InsertJob> {
    const tables = new Map<string, TableLines>();
    let bytes = 0;
    for (const [i, msg] of messages.entries()) {
      bytes += msg.value?.length ?? 0;
      let rows: RowsByTable;
      try {
        const v = kafkaValueAsProtobuf(
          opts.topicFormats?.[topic] ?? { signals: [signal], encoding: 'auto' },
          msg.value ?? Buffer.alloc(0),
        );
        rows = messageToRows(v.signal, v.protobuf, genai);
      } catch (err) {
        await sendToDlq(topic, partition, msg, 'undecodable', String((err as Error).message ?? err));
        continue;
      }
      for (const [table, lines] of rows) {
        let tl = tables.get(table);
        if (!tl) tables.set(table, (tl = { lines: [], owner: [] }));
        for (const line of lines) {
          tl.lines.push(line);
          tl.owner.push(i);
        }
      }
    }
    const first = messages[0]!.offset;
    const last = messages[messages.length - 1]!.offset;
    return { topic, partition, first, last, highWatermark, tables, messages, bytes, generation: gen };
  }

  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const dlqs = Object.keys(opts.topics)
    .map((t) => `${t}.dlq`)
    .filter((t) => !existing.has(t));
  if (dlqs.length > 0) await admin.createTopics({ topics: dlqs.map((topic) => ({ topic })), waitForLeaders: true });
  await producer.connect();
  await consumer.connect();
  await client.ping();
  workerDone = worker();
  for (const topic of Object.keys(opts.topics)) await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: Math.max(1, Object.keys(opts.topics).length * 2),
    eachBatch,
  });
  return {
    isReady: () => clickhouseOk && !stopping,
    async stop() {
      // stop taking batches, finish the queued inserts and commit them while still in the group, then leave
      stopping = true;
      consumer.pause(Object.keys(opts.topics).map((topic) => ({ topic })));
      notify();
      while (activeBatches > 0) await Promise.race([changed(), sleep(100)]);
      notify();
      await workerDone;
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}

function loaderMetrics(registry: Registry) {
  return {
    rows: new Counter({
      name: 'sieve_loader_rows_inserted_total',
      help: 'Rows inserted into ClickHouse',
      labelNames: ['table'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'sieve_loader_insert_duration_seconds',
      help: 'ClickHouse insert latency',
      labelNames: ['table'],
      registers: [registry],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    dlq: new Counter({
      name: 'sieve_loader_dlq_messages_total',
      help: 'Messages sent to the DLQ (reason: undecodable, or refused by ClickHouse)',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    unknown: new Counter({
      name: 'sieve_loader_cost_unknown_model_total',
      help: 'GenAI spans whose model has no price',
      labelNames: ['provider', 'model'],
      registers: [registry],
    }),
    invalidUsage: new Counter({
      name: 'sieve_loader_genai_invalid_usage_total',
      help: 'GenAI token counts or costs that were negative, not numbers, or absurd (> 1e9 tokens): not summed into cost; the span still loads',
      labelNames: ['field', 'dialect'],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sieve_loader_consumer_lag',
      help: 'Messages behind the high watermark after the last committed batch',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'sieve_loader_insert_retries_total',
      help: 'Insert attempts that failed and were retried',
      registers: [registry],
    }),
    queued: new Gauge({
      name: 'sieve_loader_queued_bytes',
      help: 'Message bytes decoded and waiting for their ClickHouse insert',
      registers: [registry],
    }),
  };
}
