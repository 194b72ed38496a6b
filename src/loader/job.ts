import type { KafkaMessage } from 'kafkajs';
import { kafkaValueAsProtobuf, type TopicFormat } from '../otlp/kafka-value.js';
import type { Signal } from '../otlp/model.js';
import type { PartitionRange } from './ranges.js';
import { type InsertFormat, messageToRows, type RowContext, type RowsByTable } from './rows.js';

/** One table's rows of a job, one chunk per message: `owner[i]` is the index (in the job's messages) of chunk i. */
export interface TableChunks {
  insert: InsertFormat;
  chunks: Buffer[];
  rows: number[];
  owner: number[];
}

/** One fetched partition batch, turned into rows and waiting to be inserted. */
export interface InsertJob {
  topic: string;
  partition: number;
  first: string;
  last: string;
  /**
   * the offset past the fetched records when transaction markers follow `last` in its batch (a
   * transactional producer's commit marker is a record of its own): committed past them, not at
   * them, so a partition whose last record is a marker shows no lag
   */
  end?: string;
  highWatermark: string;
  tables: Map<string, TableChunks>;
  /** the batch's messages, kept for the DLQ should ClickHouse refuse some of their rows */
  messages: KafkaMessage[];
  /** message bytes (for the queue bound) */
  bytes: number;
  /** the consumer group generation the batch was fetched in */
  generation: number;
  /** the range a previous reader committed (ranges.ts): inserted exactly as it is, never merged */
  exactRange?: boolean;
  /**
   * the combined insert this job's range goes into (every member's range, sorted by partition), set
   * when it has other members: its token names them all, and so does the job's range commit
   */
  group?: readonly PartitionRange[];
  /** an exact range's other members, read for it (range-reader.ts): inserted with it, committed by their own readers */
  with?: InsertJob[];
}

/** The offset a reader goes on from once the job is inserted: past its last message, or past the markers after it. */
export const nextOffset = (job: InsertJob): string => job.end ?? (BigInt(job.last) + 1n).toString();

/**
 * The end of the job that ends a fetched batch, when the batch goes on past the job's last message
 * (`batchLastOffset`, kafkajs' Batch.lastOffset(): transaction markers, an aborted transaction's
 * records): past those records; undefined when there are none.
 */
export function pastMarkers(batchLastOffset: string, job: InsertJob): string | undefined {
  const past = BigInt(batchLastOffset) + 1n;
  return past > BigInt(job.last) + 1n ? past.toString() : undefined;
}

/** A job's partition and range. */
export const partitionRange = (job: InsertJob): PartitionRange => ({
  partition: job.partition,
  first: job.first,
  last: job.last,
});

export interface JobSource {
  signal: Signal;
  /** the topic's encoding and signals (default: `signal`, encoding detected per message) */
  format?: TopicFormat;
  topic: string;
  partition: number;
  highWatermark: string;
  generation: number;
  exactRange?: boolean;
}

/** Turns messages into one insert job; a message that cannot become rows is handed to `undecodable`. */
export async function buildJob(
  src: JobSource,
  messages: KafkaMessage[],
  ctx: RowContext,
  undecodable: (msg: KafkaMessage, error: string) => Promise<void>,
): Promise<InsertJob> {
  const tables = new Map<string, TableChunks>();
  let bytes = 0;
  for (const [i, msg] of messages.entries()) {
    bytes += msg.value?.length ?? 0;
    let rows: RowsByTable;
    try {
      // otlp_json or otlp_proto, detected per message; a shared otlp_json topic names each message's signal
      const v = kafkaValueAsProtobuf(
        src.format ?? { signals: [src.signal], encoding: 'auto' },
        msg.value ?? Buffer.alloc(0),
      );
      rows = messageToRows(v.signal, v.protobuf, ctx);
    } catch (err) {
      await undecodable(msg, String((err as Error).message ?? err));
      continue;
    }
    for (const [table, r] of rows) {
      let tc = tables.get(table);
      if (!tc) tables.set(table, (tc = { insert: r.insert, chunks: [], rows: [], owner: [] }));
      tc.chunks.push(r.data);
      tc.rows.push(r.rows);
      tc.owner.push(i);
    }
  }
  return {
    topic: src.topic,
    partition: src.partition,
    first: messages[0]!.offset,
    last: messages[messages.length - 1]!.offset,
    highWatermark: src.highWatermark,
    tables,
    messages,
    bytes,
    generation: src.generation,
    exactRange: src.exactRange,
  };
}

/**
 * One job of `a` followed by `b`, two consecutive batches of the same partition and generation: one
 * insert (and one deduplication token, for the combined range) instead of two.
 */
export function mergeJobs(a: InsertJob, b: InsertJob): InsertJob {
  return {
    ...a,
    last: b.last,
    end: b.end,
    highWatermark: b.highWatermark,
    tables: combineTables([a, b]),
    messages: [...a.messages, ...b.messages],
    bytes: a.bytes + b.bytes,
  };
}

/**
 * The tables of `jobs`, chunks in job order: each table's rows as one insert would send them.
 * `owner` indexes the jobs' messages concatenated in the same order.
 */
export function combineTables(jobs: readonly InsertJob[]): Map<string, TableChunks> {
  const tables = new Map<string, TableChunks>();
  let shift = 0;
  for (const job of jobs) {
    for (const [t, tc] of job.tables) {
      let into = tables.get(t);
      if (!into) tables.set(t, (into = { insert: tc.insert, chunks: [], rows: [], owner: [] }));
      into.chunks.push(...tc.chunks);
      into.rows.push(...tc.rows);
      for (const o of tc.owner) into.owner.push(o + shift);
    }
    shift += job.messages.length;
  }
  return tables;
}
