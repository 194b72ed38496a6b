/**
 * Inserts a job's rows into ClickHouse: one INSERT per table carrying the deduplication token of its
 * offset range; retried with backoff while ClickHouse is down, slow or missing the table (the rows
 * are fine, the server is not); split along message boundaries when ClickHouse refuses the rows
 * themselves (refusals.ts), down to the single messages that go to the DLQ.
 */
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { combineTables, type InsertJob, partitionRange, type TableChunks } from './job.js';
import type { LoaderMetrics } from './metrics.js';
import { NativeBlockEncoder } from './native-block.js';
import { insertToken } from './ranges.js';
import { isRefusedData, splitAtMessageBoundary } from './refusals.js';
import { type Backoff, sleep } from './retry.js';
import { type Column, releaseRows } from './row-binary.js';
import { type InsertFormat, insertStatement } from './rows.js';
import { checkTableColumns, SchemaMismatchError } from './table-schema.js';

/** A message whose rows ClickHouse refused, and why. */
export interface Refusal {
  message: KafkaMessage;
  table: string;
  error: string;
}

export interface InserterOptions {
  client: ClickHouseClient;
  database: string;
  logger: Logger;
  metrics: LoaderMetrics;
  backoff: Backoff;
  /** true once the loader stops: a failing insert is abandoned (its batch stays uncommitted) */
  stopping: () => boolean;
}

export class Inserter {
  /** false while inserts fail for ClickHouse's reasons (the loader's /readyz) */
  healthy = true;
  /** RowBinary tables whose columns were checked against the encoder's */
  private readonly checked = new Set<string>();
  /** per Native table: the encoder of its blocks */
  private readonly nativeEncoders = new Map<string, NativeBlockEncoder>();

  constructor(private readonly o: InserterOptions) {}

  /** Inserts every table of a job; returns the messages whose rows ClickHouse refused. */
  private async insertJob(job: InsertJob): Promise<Refusal[]> {
    const refusals: Refusal[] = [];
    for (const [table, tc] of job.tables) await this.insertChunks(job, table, tc, 0, tc.chunks.length, refusals);
    return refusals;
  }

  /**
   * Inserts jobs of one topic's partitions as one block per table (the token names every member's
   * range: `jobs[0].group`, else the jobs' own ranges); returns each job's refused messages. When
   * ClickHouse refuses a combined block, each job's rows of that table are inserted on their own, as
   * a job alone would be (its own token, split down to the refused messages): a re-reader repeating
   * the combined insert is refused the same way and repeats the same inserts.
   */
  async insertJobs(jobs: readonly InsertJob[]): Promise<Refusal[][]> {
    const first = jobs[0] as InsertJob;
    if (jobs.length === 1 && first.group === undefined) return [await this.insertJob(first)];
    const refusals = jobs.map((): Refusal[] => []);
    const members = first.group ?? jobs.map(partitionRange);
    for (const [table, combined] of combineTables(jobs)) {
      try {
        await this.insertTableChunks(
          combined,
          table,
          0,
          combined.chunks.length,
          insertToken(first.topic, members, table),
        );
      } catch (err) {
        if (!isRefusedData(err)) throw err;
        for (const [i, job] of jobs.entries()) {
          const tc = job.tables.get(table);
          if (tc) await this.insertChunks(job, table, tc, 0, tc.chunks.length, refusals[i] as Refusal[]);
        }
      }
    }
    return refusals;
  }

  /** Compares a RowBinary table's columns with its encoder's now (throws SchemaMismatchError on a difference). */
  async checkColumns(insert: InsertFormat): Promise<void> {
    if (insert.format === 'JSONEachRow' || this.checked.has(insert.table)) return;
    await checkTableColumns(this.o.client, this.o.database, insert.table, insert.columns);
    this.checked.add(insert.table);
  }

  /**
   * Inserts chunks [start, end) of one table. When ClickHouse refuses the rows, splits along message
   * boundaries and recurses, down to single messages, which are recorded as refused.
   */
  private async insertChunks(
    job: InsertJob,
    table: string,
    tc: TableChunks,
    start: number,
    end: number,
    refusals: Refusal[],
  ): Promise<void> {
    const whole = start === 0 && end === tc.chunks.length;
    // the whole job keeps the batch's range as its token, so a re-read batch deduplicates the same way
    const first = whole ? job.first : job.messages[tc.owner[start]!]!.offset;
    const last = whole ? job.last : job.messages[tc.owner[end - 1]!]!.offset;
    try {
      const token = insertToken(job.topic, [{ partition: job.partition, first, last }], table);
      await this.insertTableChunks(tc, table, start, end, token);
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      const mid = splitAtMessageBoundary(tc.owner, start, end);
      if (mid === undefined) {
        refusals.push({ message: job.messages[tc.owner[start]!]!, table, error: err.message });
        return;
      }
      await this.insertChunks(job, table, tc, start, mid, refusals);
      await this.insertChunks(job, table, tc, mid, end, refusals);
    }
  }

  /** One insert of chunks [start, end) of a table, with `token`. */
  private async insertTableChunks(tc: TableChunks, table: string, start: number, end: number, token: string) {
    const whole = start === 0 && end === tc.chunks.length;
    let rows = 0;
    for (let i = start; i < end; i++) rows += tc.rows[i]!;
    const chunks = whole ? tc.chunks : tc.chunks.slice(start, end);
    const insert = tc.insert;
    const count = whole ? tc.rows : tc.rows.slice(start, end);
    // Native: all the messages' rows as one block (the engine pays per block: a dictionary per column)
    const native = insert.format === 'Native';
    const body = native ? this.nativeEncoder(table, insert.columns).encode(chunks, count) : chunks;
    await this.insertWithRetry(insert, body, rows, token);
    // sent and answered: the block's buffer goes back to the pool (not after a failure, when a
    // destroyed request might still be writing from it)
    if (native) releaseRows(body[0]!);
  }

  private nativeEncoder(table: string, columns: readonly Column[]): NativeBlockEncoder {
    let encoder = this.nativeEncoders.get(table);
    if (!encoder) this.nativeEncoders.set(table, (encoder = new NativeBlockEncoder(columns)));
    return encoder;
  }

  /** Retries until the insert succeeds, stop() is called, or ClickHouse refuses the rows (thrown). */
  private async insertWithRetry(insert: InsertFormat, chunks: Buffer[], rows: number, token: string): Promise<void> {
    const { client, logger, metrics: m } = this.o;
    const table = insert.table;
    let delay = this.o.backoff.initialMs;
    for (;;) {
      const t0 = process.hrtime.bigint();
      try {
        await this.checkColumns(insert);
        await client
          .exec({
            query: insertStatement(this.o.database, insert),
            values: Readable.from(chunks),
            clickhouse_settings: {
              insert_deduplication_token: token,
              deduplicate_blocks_in_dependent_materialized_views: 1,
              async_insert: 0,
            },
          })
          .then((r) => r.stream.resume());
        m.latency.observe({ table }, Number(process.hrtime.bigint() - t0) / 1e9);
        m.rows.inc({ table }, rows);
        this.healthy = true;
        return;
      } catch (err) {
        if (isRefusedData(err)) {
          this.healthy = true; // the server answered; the rows are the problem
          throw err;
        }
        if (this.o.stopping()) throw err;
        this.healthy = false;
        m.retries.inc();
        if (err instanceof SchemaMismatchError)
          logger.error({ err: err.message, table, retryInMs: delay }, 'table schema differs from the loader; retrying');
        else logger.warn({ err: String(err), table, retryInMs: delay }, 'ClickHouse insert failed; retrying');
        await sleep(delay);
        delay = Math.min(this.o.backoff.maxMs, delay * 2);
      }
    }
  }
}
