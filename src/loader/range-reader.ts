/**
 * Reads offset ranges of a topic's partitions that need not be this loader's: a previous reader's
 * combined insert (ranges.ts) is repeated whole by whoever re-reads one of its members, and after a
 * rebalance the other members may belong to other loaders.
 *
 * kafkajs has no manual partition assignment, so a consumer of a throwaway group (its only member:
 * every partition is its own) starts at the end of every partition, seeks the wanted ones to their
 * ranges and collects messages until each range is complete. The group is deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { InsertJob } from './job.js';
import type { PartitionRange } from './ranges.js';
import { type Backoff, sleep } from './retry.js';

/** how long reading a previous reader's combined insert's ranges may take before it is tried again */
const RANGE_READ_TIMEOUT_MS = 60_000;

export interface RangeReadOptions {
  /** the loader's group id: the throwaway group is named after it */
  groupId: string;
  /** fetch size (bytes) */
  maxBytes: number;
  /** give up (throw) after this long */
  timeoutMs: number;
  /** called every few seconds while waiting (the loader's own consumer must keep its group) */
  heartbeat?: () => Promise<void>;
}

/**
 * The messages of each range, by partition, in offset order. A range whose start was already deleted
 * by retention starts at the partition's first message; one deleted whole reads as empty.
 */
export async function readRanges(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  ranges: readonly PartitionRange[],
  o: RangeReadOptions,
): Promise<Map<number, KafkaMessage[]>> {
  const read = new Map<number, KafkaMessage[]>(ranges.map((r) => [r.partition, []]));
  const watermarks = new Map((await admin.fetchTopicOffsets(topic)).map((w) => [w.partition, w]));
  /** partition → the offsets still to read, [from, to] */
  const wanted = new Map<number, { from: bigint; to: bigint }>();
  for (const r of ranges) {
    const w = watermarks.get(r.partition);
    if (w === undefined) continue;
    const from = maxBig(BigInt(r.first), BigInt(w.low));
    const to = minBig(BigInt(r.last), BigInt(w.high) - 1n);
    if (from <= to) wanted.set(r.partition, { from, to });
  }
  if (wanted.size === 0) return read;

  const groupId = `${o.groupId}.range-read.${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({
    groupId,
    maxBytes: o.maxBytes,
    maxBytesPerPartition: o.maxBytes,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
  });
  let complete!: () => void;
  const completed = new Promise<void>((r) => {
    complete = r;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const want = wanted.get(batch.partition);
        if (want === undefined) return;
        const into = read.get(batch.partition) as KafkaMessage[];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < want.from || offset > want.to) continue;
          into.push(m);
          want.from = offset + 1n; // a batch delivered twice is not read twice
        }
        if (want.from > want.to) {
          wanted.delete(batch.partition);
          if (wanted.size === 0) complete();
        }
      },
    });
    for (const [partition, { from }] of wanted) consumer.seek({ topic, partition, offset: from.toString() });
    const deadline = Date.now() + o.timeoutMs;
    while (wanted.size > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `reading ${topic} partitions ${[...wanted.keys()].join(', ')} for a combined insert timed out after ${o.timeoutMs} ms`,
        );
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([completed, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      await o.heartbeat?.().catch(() => undefined);
    }
    return read;
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

export interface GroupMembersOptions {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  maxBytes: number;
  backoff: Backoff;
  logger: Logger;
}

/**
 * The other members of the previous reader's combined insert that `job` (its exact range, `job.group`)
 * repeats: their ranges read from Kafka and turned into jobs by `build`. Retried while `open()`;
 * undefined once it is not (the batch is dropped and re-read in the next generation).
 */
export async function readGroupMembers(
  o: GroupMembersOptions,
  job: InsertJob,
  build: (partition: number, messages: KafkaMessage[]) => Promise<InsertJob>,
  open: () => boolean,
  heartbeat: () => Promise<void>,
): Promise<InsertJob[] | undefined> {
  const others = (job.group ?? []).filter((g) => g.partition !== job.partition);
  let delay = o.backoff.initialMs;
  while (open()) {
    try {
      const read = await readRanges(o.kafka, o.admin, job.topic, others, {
        groupId: o.groupId,
        maxBytes: o.maxBytes,
        timeoutMs: RANGE_READ_TIMEOUT_MS,
        heartbeat,
      });
      const members: InsertJob[] = [];
      for (const g of others) {
        const messages = read.get(g.partition) ?? [];
        if (messages.length > 0) members.push(await build(g.partition, messages));
        else
          o.logger.warn(
            { topic: job.topic, member: g },
            'a combined insert member range is gone from Kafka (retention)',
          );
      }
      return members;
    } catch (err) {
      o.logger.warn(
        { err: String(err), topic: job.topic, retryInMs: delay },
        "reading a combined insert's ranges failed; retrying",
      );
      await sleep(delay);
      delay = Math.min(o.backoff.maxMs, delay * 2);
    }
  }
  return undefined;
}

const maxBig = (a: bigint, b: bigint) => (a > b ? a : b);
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
