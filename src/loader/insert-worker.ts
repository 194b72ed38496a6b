/**
 * The loader's single insert worker: drains the job queue in order (so commits per partition stay in
 * offset order). Each round inserts the next due job together with the queued jobs of the topic's
 * other partitions as one block per table (queue.ts companionsOf, insert.ts insertJobs): ClickHouse
 * pays per part, and one insert per partition made a row wait for as many inserts as the loader holds
 * partitions. Around each insert: the members' ranges are committed first (naming the group), the
 * commit past them rides with the next round's range commit (offsets.ts).
 */
import type { Logger } from 'pino';
import type { DeadLetters } from './dlq.js';
import type { Inserter } from './insert.js';
import { type InsertJob, nextOffset, partitionRange } from './job.js';
import { type LoaderMetrics, observeMessageAges } from './metrics.js';
import type { PartitionOffsets } from './offsets.js';
import type { JobQueue } from './queue.js';
import type { Backoff } from './retry.js';
import { releaseRows } from './row-binary.js';

export interface InsertWorkerOptions {
  queue: JobQueue;
  offsets: PartitionOffsets;
  inserter: Inserter;
  dlq: DeadLetters;
  metrics: LoaderMetrics;
  logger: Logger;
  backoff: Backoff;
  /** the most message bytes one insert takes */
  maxBytes: number;
  /** a partition's inserts start at least this far apart (see loader.ts DEFAULT_MIN_INSERT_INTERVAL_MS) */
  minInsertIntervalMs: number;
  stopping: () => boolean;
}

/** Runs until stopping and the queue is empty (or an insert is abandoned at stop). */
export async function runInsertWorker(o: InsertWorkerOptions): Promise<void> {
  const { queue, offsets, logger } = o;
  /** when each partition's last insert started (topic/partition) */
  const lastInsertAt = new Map<string, number>();
  const partitionOf = (job: InsertJob) => `${job.topic}\u0000${job.partition}`;
  // stopping: everything queued goes now
  const dueAt = (job: InsertJob) =>
    o.stopping() ? 0 : (lastInsertAt.get(partitionOf(job)) ?? Number.NEGATIVE_INFINITY) + o.minInsertIntervalMs;
  while (!o.stopping() || queue.length > 0) {
    const now = Date.now();
    const next = queue.nextInsert(o.maxBytes, now, dueAt);
    const job = next.job;
    if (job === undefined) {
      // nothing to send it with: the last insert's commit goes now (then the queue is looked at again)
      if (await offsets.flushCommitAfter()) continue;
      const wakeAt = next.wakeAt;
      if (wakeAt === undefined) await queue.changed();
      else {
        // woken by the queue or when a partition falls due; the timer goes with the wait
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([queue.changed(), new Promise<void>((r) => (timer = setTimeout(r, wakeAt - now)))]);
        clearTimeout(timer);
      }
      continue;
    }
    const members = [job, ...queue.companionsOf(job, o.maxBytes, now, dueAt)];
    for (const m of members) lastInsertAt.set(partitionOf(m), now);
    try {
      if (!(await insertMembers(o, members)))
        logger.info(
          { topic: job.topic, ranges: members.map((m) => `${m.partition}:${m.first}-${m.last}`) },
          'batch of an earlier group generation dropped; it is re-read from the committed offset',
        );
    } catch (err) {
      logger.error({ err: String(err), topic: job.topic, partition: job.partition }, 'insert abandoned at stop');
      queue.clear(); // stopping with ClickHouse down: uncommitted batches are re-read on the next start
      await offsets.flushCommitAfter();
      return;
    }
    for (const m of members) queue.done(m);
  }
  await offsets.flushCommitAfter();
}

/**
 * Inserts one round's jobs (one per partition) as one insert and commits past them; false when they
 * belong to an earlier group generation. A previous reader's combined insert being repeated (a job
 * with `with`) brings the other members' rows; only its own partition is committed here.
 */
async function insertMembers(o: InsertWorkerOptions, members: InsertJob[]): Promise<boolean> {
  if (members.length > 1) {
    const group = members.map(partitionRange).sort((a, b) => a.partition - b.partition);
    for (const m of members) m.group = group;
  }
  // the offsets already reached, with the ranges about to be inserted: a re-reader repeats them
  if (!(await o.offsets.commitRangeBefore(members))) return false;
  const inserted = members.flatMap((m) => [m, ...(m.with ?? [])]);
  const refusals = await o.inserter.insertJobs(inserted);
  const now = Date.now();
  for (const [i, job] of inserted.entries()) {
    // the rows are in ClickHouse (or refused): their buffers take the next messages' rows
    for (const table of job.tables.values()) for (const chunk of table.chunks) releaseRows(chunk);
    if (!members.includes(job)) continue; // read for a repeated combined insert: its own reader commits it
    observeMessageAges(o.metrics, job, now);
    for (const r of refusals[i] ?? [])
      await o.dlq.sendWithRetry(job.topic, job.partition, r.message, r.table, r.error, o.backoff, o.stopping);
    o.metrics.lag.set(
      { topic: job.topic, partition: String(job.partition) },
      Math.max(0, Number(job.highWatermark) - Number(nextOffset(job))),
    );
  }
  o.offsets.insertedJob(members); // committed with the next round's ranges, or when the worker goes idle
  return true;
}
