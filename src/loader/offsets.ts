/**
 * Offsets and exactly-once (see ranges.ts): before a job is inserted its range is committed as the
 * metadata of the offset already reached; after the insert, the offset past it. The first batches a
 * partition delivers in a group generation are cut to the range its previous reader was inserting.
 *
 * The commit past an inserted job goes in the same OffsetCommit request as the next job's range
 * commit (one Kafka round trip per insert instead of two, on the insert worker's serial path), or on
 * its own when the worker has nothing to insert next (flushCommitAfter). For a job of the same
 * partition that starts where the inserted one ended, the range commit alone is both: the same offset,
 * with the next range as its metadata.
 */
import type { Admin, Consumer, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type InsertJob, nextOffset } from './job.js';
import { alignToRange, type CommittedRange, type PartitionRange, parseRangeMetadata, rangeMetadata } from './ranges.js';
import { type Backoff, sleep } from './retry.js';

export interface PartitionOffsetsOptions {
  consumer: Consumer;
  admin: Admin;
  groupId: string;
  logger: Logger;
  backoff: Backoff;
  stopping: () => boolean;
  /** the consumer group generation now (batches of an earlier one are not inserted) */
  generation: () => number;
}

export class PartitionOffsets {
  /** per topic:partition, the generation whose first batch was aligned to the committed range */
  private readonly alignedIn = new Map<string, number>();
  /** per topic:partition, messages of a committed range fetched so far, waiting for the rest of it */
  private readonly heldForRange = new Map<
    string,
    { generation: number; range: CommittedRange; messages: KafkaMessage[] }
  >();

  constructor(private readonly o: PartitionOffsetsOptions) {}

  /** A new group generation: partitions are re-read from their committed offsets. */
  newGeneration(): void {
    this.heldForRange.clear();
  }

  /** the inserted jobs whose commit past them is not sent yet (it goes with the next range commit) */
  private inserted: InsertJob[] = [];

  /**
   * Commits the offset already reached with the range of each job about to be inserted (one job, or
   * the members of a combined insert: each range names the group, `job.group`), and past the jobs
   * inserted before them (if their commit is still pending), in one request; false when the jobs'
   * generation is over (the pending commit is made all the same).
   */
  async commitRangeBefore(next: InsertJob | readonly InsertJob[]): Promise<boolean> {
    const jobs: readonly InsertJob[] = Array.isArray(next) ? next : [next as InsertJob];
    const done = this.inserted;
    this.inserted = [];
    const along: InsertJob[] = [];
    const before: InsertJob[] = [];
    for (const d of done) {
      const same = jobs.find((j) => samePartition(d, j));
      // the same partition, continued where it ended: the range commit is also past it (the same offset)
      if (same === undefined) along.push(d);
      else if (!continues(d, same)) before.push(d); // not continued (another generation): its own commit first
    }
    if (before.length > 0) await this.commitAfter(before);
    return this.commitWhileCurrent(jobs, along);
  }

  /** The jobs are inserted: their commit past them goes with the next range commit, or at flushCommitAfter. */
  insertedJob(job: InsertJob | readonly InsertJob[]): void {
    this.inserted = Array.isArray(job) ? [...job] : [job as InsertJob];
  }

  /** Sends the pending commit past the last inserted jobs (nothing to insert next, or stopping); false when none was pending. */
  async flushCommitAfter(): Promise<boolean> {
    const done = this.inserted;
    this.inserted = [];
    if (done.length === 0) return false;
    await this.commitAfter(done);
    return true;
  }

  /** Commits past the inserted jobs (their ranges stay as metadata: a reader whose position predates it still aligns). */
  private async commitAfter(jobs: readonly InsertJob[]): Promise<void> {
    const entries = jobs.map(commitPast);
    try {
      await this.o.consumer.commitOffsets(entries);
    } catch (err) {
      // after a rebalance the partition may belong to another member, which re-reads and aligns to the range
      this.o.logger.warn(
        { err: String(err), offsets: entries.map((e) => `${e.topic}:${e.partition}@${e.offset}`) },
        'offset commit failed',
      );
    }
  }

  /**
   * Commits the jobs' ranges, retrying while their generation is current; false once it is not.
   * `done`: jobs inserted before, whose commit past them goes in the same request; made on its own if
   * the generation is over or the request fails.
   */
  private async commitWhileCurrent(jobs: readonly InsertJob[], done: InsertJob[]): Promise<boolean> {
    let delay = this.o.backoff.initialMs;
    let along = done;
    const generation = (jobs[0] as InsertJob).generation;
    const ranges = jobs.map((job) => ({
      topic: job.topic,
      partition: job.partition,
      offset: job.first,
      metadata: rangeMetadata(job),
    }));
    for (;;) {
      if (generation !== this.o.generation()) {
        if (along.length > 0) await this.commitAfter(along);
        return false;
      }
      try {
        await this.o.consumer.commitOffsets([...along.map(commitPast), ...ranges]);
        // kafkajs retries a commit across a rebalance; committed in a newer generation is too late
        return generation === this.o.generation();
      } catch (err) {
        if (this.o.stopping()) {
          if (along.length > 0) await this.commitAfter(along);
          throw err;
        }
        if (along.length > 0) {
          // one partition's error fails the request: the inserted jobs' commit goes on its own
          await this.commitAfter(along);
          along = [];
        }
        this.o.logger.warn(
          { err: String(err), ranges: ranges.map((r) => `${r.topic}:${r.partition}@${r.offset}`), retryInMs: delay },
          'offset commit failed; retrying',
        );
        await sleep(delay);
        delay = Math.min(this.o.backoff.maxMs, delay * 2);
      }
    }
  }

  /**
   * The first batches of a partition in a generation: cut them to the range its previous reader was
   * inserting (committed offset metadata). A fetch that ends inside that range is held back and
   * completed by the next one, so the range is inserted whole, as before. Returns the parts to queue;
   * `exactFirst`: the first part is such a range, to be inserted exactly as it is; `group`: the
   * combined insert it belongs to (every member's range), to be repeated whole.
   */
  async alignToCommittedRange(
    topic: string,
    partition: number,
    fetched: KafkaMessage[],
    gen: number,
  ): Promise<{ parts: KafkaMessage[][]; exactFirst: boolean; group?: readonly PartitionRange[] }> {
    const key = `${topic}:${partition}`;
    let messages = fetched;
    let range: CommittedRange | undefined;
    const held = this.heldForRange.get(key);
    this.heldForRange.delete(key);
    if (held?.generation === gen) {
      messages = [...held.messages, ...fetched];
      range = held.range;
    } else if (this.alignedIn.get(key) !== gen) {
      const [committed] = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] });
      this.alignedIn.set(key, gen); // after the read: a failed read is retried with the re-delivered batch
      range = parseRangeMetadata(committed?.partitions.find((p) => p.partition === partition)?.metadata);
      if (range?.group && !range.group.some((g) => g.partition === partition && g.first === range?.first)) {
        this.o.logger.warn(
          { topic, partition, range },
          'committed range names a group without this partition; group ignored',
        );
        range = { first: range.first, last: range.last };
      }
    }
    const { parts, short } = alignToRange(messages, range);
    if (short && range !== undefined) {
      this.heldForRange.set(key, { generation: gen, range, messages });
      return { parts: [], exactFirst: false };
    }
    const exactFirst = range !== undefined && messages[0]?.offset === range.first;
    return exactFirst && range?.group ? { parts, exactFirst, group: range.group } : { parts, exactFirst };
  }
}

const samePartition = (a: InsertJob, b: InsertJob) => a.topic === b.topic && a.partition === b.partition;

/** `next` starts where `done` ended: committing its range also commits past `done` (the same offset). */
const continues = (done: InsertJob, next: InsertJob) => BigInt(nextOffset(done)) === BigInt(next.first);

/** The commit past an inserted job: the next offset (past any markers after it), its range kept as metadata. */
function commitPast(job: InsertJob) {
  return {
    topic: job.topic,
    partition: job.partition,
    offset: nextOffset(job),
    metadata: rangeMetadata(job),
  };
}
