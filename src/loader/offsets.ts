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
import type { InsertJob } from './job.js';
import { alignToRange, type OffsetRange, parseRangeMetadata, rangeMetadata } from './ranges.js';
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
    { generation: number; range: OffsetRange; messages: KafkaMessage[] }
  >();

  constructor(private readonly o: PartitionOffsetsOptions) {}

  /** A new group generation: partitions are re-read from their committed offsets. */
  newGeneration(): void {
    this.heldForRange.clear();
  }

  /** the inserted job whose commit past it is not sent yet (it goes with the next range commit) */
  private inserted: InsertJob | undefined;

  /**
   * Commits the offset already reached with the job's range, and past the job inserted before it (if
   * its commit is still pending); false when the job's generation is over (the pending commit is made
   * all the same).
   */
  async commitRangeBefore(job: InsertJob): Promise<boolean> {
    let done = this.inserted;
    this.inserted = undefined;
    // the same partition, not continued where it ended (another generation): its own commit first
    if (done !== undefined && samePartition(done, job) && !continues(done, job)) {
      await this.commitAfter(done);
      done = undefined;
    }
    return this.commitWhileCurrent(job, done);
  }

  /** The job is inserted: its commit past it goes with the next range commit, or at flushCommitAfter. */
  insertedJob(job: InsertJob): void {
    this.inserted = job;
  }

  /** Sends the pending commit past the last inserted job (nothing to insert next, or stopping); false when none was pending. */
  async flushCommitAfter(): Promise<boolean> {
    const done = this.inserted;
    this.inserted = undefined;
    if (done === undefined) return false;
    await this.commitAfter(done);
    return true;
  }

  /** Commits past the inserted job (the range stays as metadata: a reader whose position predates it still aligns). */
  private async commitAfter(job: InsertJob): Promise<void> {
    const entry = commitPast(job);
    try {
      await this.o.consumer.commitOffsets([entry]);
    } catch (err) {
      // after a rebalance the partition may belong to another member, which re-reads and aligns to the range
      this.o.logger.warn(
        { err: String(err), topic: job.topic, partition: job.partition, offset: entry.offset },
        'offset commit failed',
      );
    }
  }

  /**
   * Commits the job's range, retrying while its generation is current; false once it is not. `done`: the job
   * inserted before, whose commit past it goes in the same request (a range commit that continues it
   * on its partition stands for it); made on its own if the generation is over or the request fails.
   */
  private async commitWhileCurrent(job: InsertJob, done?: InsertJob): Promise<boolean> {
    let delay = this.o.backoff.initialMs;
    let along = done;
    for (;;) {
      if (job.generation !== this.o.generation()) {
        if (along !== undefined) await this.commitAfter(along);
        return false;
      }
      const entry = { topic: job.topic, partition: job.partition, offset: job.first, metadata: rangeMetadata(job) };
      try {
        await this.o.consumer.commitOffsets(
          along === undefined || samePartition(along, job) ? [entry] : [commitPast(along), entry],
        );
        // kafkajs retries a commit across a rebalance; committed in a newer generation is too late
        return job.generation === this.o.generation();
      } catch (err) {
        if (this.o.stopping()) {
          if (along !== undefined) await this.commitAfter(along);
          throw err;
        }
        if (along !== undefined) {
          // one partition's error fails the request: the inserted job's commit goes on its own
          await this.commitAfter(along);
          along = undefined;
        }
        this.o.logger.warn(
          { err: String(err), topic: job.topic, partition: job.partition, retryInMs: delay },
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
   * `exactFirst`: the first part is such a range, to be inserted exactly as it is.
   */
  async alignToCommittedRange(
    topic: string,
    partition: number,
    fetched: KafkaMessage[],
    gen: number,
  ): Promise<{ parts: KafkaMessage[][]; exactFirst: boolean }> {
    const key = `${topic}:${partition}`;
    let messages = fetched;
    let range: OffsetRange | undefined;
    const held = this.heldForRange.get(key);
    this.heldForRange.delete(key);
    if (held?.generation === gen) {
      messages = [...held.messages, ...fetched];
      range = held.range;
    } else if (this.alignedIn.get(key) !== gen) {
      const [committed] = await this.o.admin.fetchOffsets({ groupId: this.o.groupId, topics: [topic] });
      this.alignedIn.set(key, gen); // after the read: a failed read is retried with the re-delivered batch
      range = parseRangeMetadata(committed?.partitions.find((p) => p.partition === partition)?.metadata);
    }
    const { parts, short } = alignToRange(messages, range);
    if (short && range !== undefined) {
      this.heldForRange.set(key, { generation: gen, range, messages });
      return { parts: [], exactFirst: false };
    }
    return { parts, exactFirst: range !== undefined && messages[0]?.offset === range.first };
  }
}

const samePartition = (a: InsertJob, b: InsertJob) => a.topic === b.topic && a.partition === b.partition;

/** `next` starts where `done` ended: committing its range also commits past `done` (the same offset). */
const continues = (done: InsertJob, next: InsertJob) => BigInt(done.last) + 1n === BigInt(next.first);

/** The commit past an inserted job: the next offset, its range kept as metadata. */
function commitPast(job: InsertJob) {
  return {
    topic: job.topic,
    partition: job.partition,
    offset: (BigInt(job.last) + 1n).toString(),
    metadata: rangeMetadata(job),
  };
}
