/**
 * Kafka → ClickHouse loader.
 *
 * Per fetched batch (one topic partition): turn each message into rows per table (rows.ts; poison
 * messages go to `<topic>.dlq` with the error in headers), then queue one insert job (queue.ts).
 * A single insert worker (insert-worker.ts) drains the queue in order, so turning the next batch into
 * rows overlaps the current insert; the queued jobs of a topic's partitions go as one insert. After
 * every table of a round is inserted (insert.ts), its jobs' offsets are committed to Kafka (offsets.ts;
 * offset = last + 1), in one request with the next round's range commit. Nothing is committed before
 * its rows are in ClickHouse or the DLQ.
 *
 * Idempotence: each insert carries `insert_deduplication_token = topic-partition-first-last-table`
 * (a combined insert names every partition's range), so a retry of the same ranges after a crash
 * between insert and commit is dropped by ClickHouse. Before inserting, each job's range (and its
 * group's) is committed as offset metadata, and whoever re-reads the partition cuts its first batch to
 * that range and repeats the group's insert whole (ranges.ts), so the tokens repeat. After a rebalance
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
import type { ClickHouseClient } from '@clickhouse/client';
import { type Consumer, type EachBatchPayload, Kafka, logLevel, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import '../kafka/kafkajs-idle-fix.js';
import '../kafka/compression.js'; // the consumer's codecs: gzip into one sized buffer, LZ4, Snappy, zstd
import { framedSocketFactory } from '../kafka/framed-socket.js';
import type { KafkaClientSecurity } from '../kafka/security.js';
import { BROKER_DEFAULT, createMissingTopics } from '../kafka/topics.js';
import { isolatingUnreadableBatches, unreadableOf } from '../kafka/unreadable-batch.js';
import type { TopicFormat } from '../otlp/kafka-value.js';
import type { Signal } from '../otlp/model.js';
import { watchConsumer } from './consumer-health.js';
import { DeadLetters } from './dlq.js';
import { DLQ_SUFFIX } from './dlq-records.js';
import type { CompiledDialects } from './genai.js';
import { Inserter } from './insert.js';
import { runInsertWorker } from './insert-worker.js';
import { buildJob, pastMarkers } from './job.js';
import { loaderMetrics } from './metrics.js';
import { PartitionOffsets } from './offsets.js';
import type { PricingTable } from './pricing.js';
import { JobQueue } from './queue.js';
import { readGroupMembers } from './range-reader.js';
import { sleep } from './retry.js';
import { DEFAULT_ROW_FORMAT, ROW_BINARY_TABLES, type RowContext, type RowFormat } from './rows.js';
import { SchemaMismatchError } from './table-schema.js';

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
   * maxBytes: Kafka fetch size (bytes per fetch as Kafka counts them, compressed; default 16 MiB);
   * maxInsertBytes: message bytes (values as read, uncompressed) one insert takes, all its partitions
   *   together (default defaultInsertBytes(maxBytes));
   * maxWaitMs: how long a fetch waits for data before returning a smaller batch (default 500 ms);
   * maxQueuedBytes: message bytes turned into rows but not inserted before fetching pauses (default 2 × maxInsertBytes);
   * minInsertIntervalMs: a partition's inserts start at least this far apart unless it has maxInsertBytes
   * queued or the queue is half full (default 0: insert whenever the previous insert is done).
   */
  batch?: {
    maxBytes?: number;
    maxInsertBytes?: number;
    maxWaitMs?: number;
    maxQueuedBytes?: number;
    minInsertIntervalMs?: number;
  };
  /** Retry backoff bounds while ClickHouse is unavailable. */
  retry?: { initialMs?: number; maxMs?: number };
  /** How otel_traces rows are sent (default DEFAULT_ROW_FORMAT: Native). */
  insertFormat?: RowFormat;
}

export interface Loader {
  stop(): Promise<void>;
  isReady(): boolean;
  /**
   * Resolves when the Kafka consumer has failed for good (kafkajs does not restart it after a
   * non-retriable error): the loader loads nothing more and should be stopped and restarted.
   */
  failed: Promise<Error>;
}

const HEARTBEAT_EVERY_MS = 3000;
/**
 * Pacing of a partition's inserts (off by default). ClickHouse pays per insert, whatever its size: a
 * part in the table and in each materialised view, and merges later (with otel_traces' three views,
 * ~40 ms of the local engine's CPU for a one-row insert). Inserting each partition as soon as its
 * previous insert is done, a loader made 11 inserts/s at 10k spans/s and the local engine spent a
 * core on them; one insert per partition per second halved that (0.5 core) for a p99 freshness of
 * 1.4 s instead of 1.0 s. At 20k spans/s on the same two cores the bigger inserts made freshness
 * worse (p99 4.6–5.9 s instead of 2–3 s), so it is opt-in: SIEVE_LOADER_MIN_INSERT_INTERVAL_MS.
 */
export const DEFAULT_MIN_INSERT_INTERVAL_MS = 0;

/**
 * How many message bytes one insert takes by default: four times the fetch size, at most 16 MiB (never
 * less than the fetch size). One insert takes the queued batches of every partition of a topic
 * (insert-worker.ts). With a cap of the fetch size, 4 MiB, an insert held ~190 ms of 20k spans/s (22
 * MB/s of OTLP, uncompressed), and a fetch of compressed batches brought more than that for one
 * partition: once a busy machine stretched an insert past ~190 ms, each partition went alone and the
 * lag grew for the rest of the run (README, "Seventeenth session").
 */
export function defaultInsertBytes(maxBytes: number): number {
  return Math.max(maxBytes, Math.min(4 * maxBytes, 16 * 1024 * 1024));
}

export async function startLoader(opts: LoaderOptions): Promise<Loader> {
  const { client, database, logger, registry } = opts;
  const maxBytes = opts.batch?.maxBytes ?? 16 * 1024 * 1024;
  const maxInsertBytes = opts.batch?.maxInsertBytes ?? defaultInsertBytes(maxBytes);
  const maxQueuedBytes = opts.batch?.maxQueuedBytes ?? 2 * maxInsertBytes;
  const minInsertIntervalMs = opts.batch?.minInsertIntervalMs ?? DEFAULT_MIN_INSERT_INTERVAL_MS;
  const backoff = { initialMs: opts.retry?.initialMs ?? 200, maxMs: opts.retry?.maxMs ?? 10_000 };
  const m = loaderMetrics(registry);
  const rowContext: RowContext = {
    pricing: opts.pricing,
    dialects: opts.dialects,
    onUnknownModel: (provider, model, count = 1) => m.unknown.inc({ provider, model }, count),
    onInvalidUsage: (field, dialect, count = 1) => m.invalidUsage.inc({ field, dialect }, count),
    insertFormat: opts.insertFormat ?? DEFAULT_ROW_FORMAT,
  };

  /** set by stop(): no new batches are queued, and a failing insert is abandoned (its batch stays uncommitted) */
  let stopping = false;
  let activeBatches = 0;
  /** consumer group generations seen (GROUP_JOIN events): batches of an earlier one are not inserted */
  let generation = 0;

  const inserter = new Inserter({ client, database, logger, metrics: m, backoff, stopping: () => stopping });
  // a RowBinary table whose columns differ from its encoder's would get shifted values: refuse to start
  // (ClickHouse down or the table not there yet is checked again before the first insert)
  const signals = new Set([
    ...Object.values(opts.topics),
    ...Object.values(opts.topicFormats ?? {}).flatMap((f) => f.signals),
  ]);
  for (const signal of signals) {
    const insert = ROW_BINARY_TABLES[signal];
    if (!insert) continue;
    await inserter.checkColumns(insert).catch((err: unknown) => {
      if (err instanceof SchemaMismatchError) throw err;
    });
    logger.info({ table: insert.table, format: rowContext.insertFormat }, 'loader insert format');
  }

  const kafka = new Kafka({
    clientId: `sieve-loader-${opts.groupId}`,
    brokers: opts.brokers,
    logLevel: logLevel.NOTHING,
    ...opts.security,
    // each response read whole into a buffer of its size: no 64 KiB chunks to concatenate
    socketFactory: framedSocketFactory(),
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
  const admin = kafka.admin();
  const queue = new JobQueue(maxQueuedBytes, (bytes) => m.queued.set(bytes));
  const dlq = new DeadLetters(producer, m, logger);
  const offsets = new PartitionOffsets({
    consumer,
    admin,
    groupId: opts.groupId,
    logger,
    backoff,
    stopping: () => stopping,
    generation: () => generation,
  });
  const consumerHealth = watchConsumer(
    consumer,
    { crashes: m.consumerCrashes, unreadable: m.unreadablePartitions },
    logger,
  );
  consumer.on(consumer.events.GROUP_JOIN, () => {
    generation++;
    consumerHealth.newGeneration();
    offsets.newGeneration(); // re-read from the committed offset in the new generation
    queue.notify();
  });

  let workerDone: Promise<void> = Promise.resolve();

  const sourceOf = (topic: string, partition: number, gen: number) => {
    const format = opts.topicFormats?.[topic];
    return { signal: opts.topics[topic] as Signal, ...(format ? { format } : {}), topic, partition, generation: gen };
  };

  async function eachBatch(payload: EachBatchPayload) {
    activeBatches++;
    try {
      await queueBatch(payload);
    } finally {
      activeBatches--;
      queue.notify();
    }
  }

  async function queueBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    const signal = opts.topics[batch.topic];
    if (!signal || batch.messages.length === 0 || stopping) return;
    // a batch that could not be read ends the messages (kafka/unreadable-batch.ts): those before it are
    // loaded, the partition waits at it
    const last = batch.messages[batch.messages.length - 1]!;
    const unreadable = unreadableOf(last);
    const readable = unreadable === undefined ? batch.messages : batch.messages.slice(0, -1);
    if (unreadable !== undefined) consumerHealth.unreadable(batch.topic, batch.partition, unreadable);
    else consumerHealth.readable(batch.topic, batch.partition);
    if (readable.length === 0) return;
    const gen = generation;
    const open = () => isRunning() && !isStale() && !stopping && gen === generation;
    const { parts, exactFirst, group } = await offsets.alignToCommittedRange(
      batch.topic,
      batch.partition,
      readable,
      gen,
    );
    const source = { ...sourceOf(batch.topic, batch.partition, gen), highWatermark: batch.highWatermark };
    for (const [i, messages] of parts.entries()) {
      const exactRange = i === 0 && exactFirst;
      const job = await buildJob({ ...source, exactRange }, messages, rowContext, (msg, error) =>
        dlq.send(batch.topic, batch.partition, msg, 'undecodable', error),
      );
      // the batch's last job: committed past the transaction markers after it, if any (not past an
      // unreadable batch)
      if (i === parts.length - 1 && unreadable === undefined) job.end = pastMarkers(batch.lastOffset(), job);
      if (exactRange && group !== undefined) {
        // a previous reader's combined insert: repeated whole, with the other members' rows
        job.group = group;
        const members = await readGroupMembers(
          { kafka, admin, groupId: opts.groupId, maxBytes, backoff, logger },
          job,
          // undecodable messages go to the DLQ from their own partition's reader, not from here
          (partition, msgs) =>
            buildJob(
              { ...sourceOf(job.topic, partition, gen), highWatermark: '0', exactRange: true },
              msgs,
              rowContext,
              async () => undefined,
            ),
          open,
          () => heartbeat().catch(() => undefined),
        );
        if (members === undefined) return;
        job.with = members;
      }
      // backpressure: wait (heartbeating, so the group keeps us) until the queue has room
      while (!queue.hasRoomFor(job.bytes) && open()) {
        await Promise.race([queue.changed(), sleep(HEARTBEAT_EVERY_MS)]);
        await heartbeat().catch(() => undefined);
      }
      if (!open()) return;
      queue.push(job);
    }
    queue.notify(); // the worker takes the rows now, not after the heartbeat below
    // advances the fetch position only; the commit happens after the insert
    resolveOffset(readable[readable.length - 1]!.offset);
    await heartbeat().catch(() => undefined);
  }

  await admin.connect();
  // a loader that starts before the receiver (on a new cluster) creates the topics it reads, as the
  // receiver would, instead of failing to subscribe to them; and their dead-letter topics (the
  // broker's partition count: they carry little)
  const sources = Object.keys(opts.topics);
  const created = await createMissingTopics(admin, [
    ...sources,
    ...sources.map((t) => ({ topic: `${t}${DLQ_SUFFIX}`, partitions: BROKER_DEFAULT })),
  ]);
  if (created.length > 0)
    logger.info({ topics: created }, 'created the missing Kafka topics it reads and dead-letters into');
  await producer.connect();
  await consumer.connect();
  await client.ping();
  workerDone = runInsertWorker({
    queue,
    offsets,
    inserter,
    dlq,
    metrics: m,
    logger,
    backoff,
    maxBytes: maxInsertBytes,
    minInsertIntervalMs,
    stopping: () => stopping,
  });
  for (const topic of Object.keys(opts.topics)) await consumer.subscribe({ topic, fromBeginning: true });
  await isolatingUnreadableBatches(() =>
    consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Object.keys(opts.topics).length * 2),
      eachBatch,
    }),
  );
  return {
    isReady: () => inserter.healthy && consumerHealth.fetching() && consumerHealth.allReadable() && !stopping,
    failed: consumerHealth.failed,
    async stop() {
      // stop taking batches, finish the queued inserts and commit them while still in the group, then leave
      stopping = true;
      try {
        consumer.pause(Object.keys(opts.topics).map((topic) => ({ topic })));
      } catch {
        // the consumer failed and waits to restart (kafkajs throws: no group to pause); disconnect cancels the restart
      }
      queue.notify();
      while (activeBatches > 0) await Promise.race([queue.changed(), sleep(100)]);
      queue.notify();
      await workerDone;
      consumerHealth.close();
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    },
  };
}
