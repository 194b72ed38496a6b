/**
 * Offsets and exactly-once (see ranges.ts): before a job is inserted its range is committed as the
 * metadata of the offset already reached; after the insert, the offset past it. The first batches a
 * partition delivers in a group generation are cut to the range its previous reader was inserting.
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

  /** Commits the offset already reached with the job's range; false when the job's generation is over. */
  commitRangeBefore(job: InsertJob): Promise<boolean> {
    return this.commitWhileCurrent(job, job.first, rangeMetadata(job));
  }

  /** Commits past the inserted job (the range stays as metadata: a reader whose position predates it still aligns). */
  async commitAfter(job: InsertJob): Promise<void> {
    const next = (BigInt(job.last) + 1n).toString();
    try {
      await this.o.consumer.commitOffsets([
        { topic: job.topic, partition: job.partition, offset: next, metadata: rangeMetadata(job) },
      ]);
    } catch (err) {
      // after a rebalance the partition may belong to another member, which re-reads and aligns to the range
      this.o.logger.warn(
        { err: String(err), topic: job.topic, partition: job.partition, offset: next },
        'offset commit failed',
      );
    }
  }

  /** Commits, retrying while the job's generation is current; false once it is not. */
  private async commitWhileCurrent(job: InsertJob, offset: string, metadata: string): Promise<boolean> {
    let delay = this.o.backoff.initialMs;
    for (;;) {
      if (job.generation !== this.o.generation()) return false;
      try {
        await this.o.consumer.commitOffsets([{ topic: job.topic, partition: job.partition, offset, metadata }]);
        // kafkajs retries a commit across a rebalance; committed in a newer generation is too late
        return job.generation === this.o.generation();
      } catch (err) {
        if (this.o.stopping()) throw err;
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
