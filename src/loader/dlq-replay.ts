/**
 * `sieve dlq`: what waits in a DLQ topic, and replaying it into the topic it came from once its cause
 * is fixed (a constraint dropped, a view mended, a loader upgraded), for the loader to load again.
 *
 * What waits: the DLQ's messages past the replay group's committed offset (all of them before the
 * first replay), up to the end the topic had when the command started. Replay sends each one's key and
 * value back to its `original.topic`, and commits the replay group's offset past it in the same Kafka
 * transaction, so a replay that stops halfway (Ctrl-C, a crash, the broker gone) neither loses nor
 * repeats a message when run again. A message that fails again goes back to the DLQ as a new one, and
 * waits for the next replay. Replay can be narrowed to some reasons (`refused`, `undecodable`): the
 * others are passed over, committed past in the same transactions but not sent (they stay in the DLQ
 * topic until its retention deletes them).
 */
import { randomBytes } from 'node:crypto';
import { type Admin, type Batch, CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import { DeadLetterSummary, deadLetterOf, sourceTopicOf } from './dlq-records.js';

export const DEFAULT_REPLAY_GROUP = 'sieve-dlq-replay';

/** One partition's messages to read: offsets [from, to). */
export interface PartitionRange {
  partition: number;
  from: number;
  to: number;
}

export interface DlqTopicState {
  topic: string;
  /** false: the topic does not exist (nothing has gone to the DLQ yet) */
  exists: boolean;
  /** what waits, per partition */
  ranges: PartitionRange[];
  /** messages waiting */
  waiting: number;
  /** messages the topic still holds (retention may have deleted older ones) */
  held: number;
}

/** What waits in `topic` for `group` (see the file comment). */
export async function dlqTopicState(admin: Admin, topic: string, group: string): Promise<DlqTopicState> {
  const known = await admin.listTopics();
  if (!known.includes(topic)) return { topic, exists: false, ranges: [], waiting: 0, held: 0 };
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = new Map<number, number>();
  for (const t of await admin.fetchOffsets({ groupId: group, topics: [topic] }))
    for (const p of t.partitions) committed.set(p.partition, Number(p.offset));
  const ranges = ends.map((e) => {
    const low = Number(e.low);
    const done = committed.get(e.partition) ?? -1;
    // no commit yet (-1), or one retention has overtaken: from the oldest message the topic holds
    return { partition: e.partition, from: Math.max(low, done), to: Number(e.high) };
  });
  const sum = (f: (r: PartitionRange, i: number) => number) => ranges.reduce((n, r, i) => n + Math.max(0, f(r, i)), 0);
  return {
    topic,
    exists: true,
    ranges,
    waiting: sum((r) => r.to - r.from),
    held: sum((r, i) => r.to - Number(ends[i]?.low ?? r.to)),
  };
}

interface ReadOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  ranges: PartitionRange[];
  /** the messages of one fetched batch below their range's end (never empty) */
  onBatch: (batch: Batch, messages: Batch['messages']) => Promise<void>;
}

/**
 * Reads each partition's range once, batch by batch, through consumer group `groupId` (whose
 * committed offsets must be where the ranges start); resolves when every range is read, rejects with
 * the first error `onBatch` throws or the consumer's crash.
 */
async function readRanges({ kafka, topic, groupId, ranges, onBatch }: ReadOptions): Promise<void> {
  const open = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (open.size === 0) return;
  // a short session: a replay killed earlier stays a member of its group until the session ends, and
  // the next one waits for that before it gets the partitions
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 250,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    retry: { retries: 2 },
  });
  let settle!: (err?: unknown) => void;
  const finished = new Promise<void>((ok, fail) => {
    settle = (err) => (err === undefined ? ok() : fail(err));
  });
  consumer.on(consumer.events.CRASH, (e) => settle(e.payload.error));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        const range = open.get(batch.partition);
        if (range === undefined) return;
        const messages = batch.messages.filter((m) => Number(m.offset) < range.to);
        try {
          if (messages.length > 0) await onBatch(batch, messages);
        } catch (err) {
          settle(err);
          throw err;
        }
        await heartbeat();
        if (Number(batch.lastOffset()) + 1 >= range.to) open.delete(batch.partition);
        if (open.size === 0) settle();
      },
    });
    await finished;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Summarises what waits in `state` (read through a consumer group of its own, deleted afterwards). */
export async function summariseWaiting(
  kafka: Kafka,
  admin: Admin,
  state: DlqTopicState,
  progress?: (read: number) => void,
): Promise<DeadLetterSummary> {
  const summary = new DeadLetterSummary();
  if (state.waiting === 0) return summary;
  const groupId = `sieve-dlq-inspect-${randomBytes(6).toString('hex')}`;
  const from = state.ranges.filter((r) => r.to > r.from);
  await admin.setOffsets({
    groupId,
    topic: state.topic,
    partitions: from.map((r) => ({ partition: r.partition, offset: String(r.from) })),
  });
  try {
    await readRanges({
      kafka,
      topic: state.topic,
      groupId,
      ranges: from,
      onBatch: async (_batch, messages) => {
        for (const m of messages) summary.add(deadLetterOf(m));
        progress?.(summary.count);
      },
    });
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return summary;
}

export interface ReplayResult {
  replayed: number;
  /** per topic the messages went back to */
  byTopic: Record<string, number>;
  /** per reason, the messages passed over (not of a reason asked for): marked replayed, not sent */
  passedOver: Record<string, number>;
}

/**
 * Sends what waits in `state` back to the topics it came from, one Kafka transaction per fetched batch
 * (the messages and the replay group's offset past them).
 */
export async function replayWaiting(
  kafka: Kafka,
  state: DlqTopicState,
  group: string,
  progress?: (done: number) => void,
  reasons?: ReadonlySet<string>,
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: 0, byTopic: {}, passedOver: {} };
  if (state.waiting === 0) return result;
  // one transactional id per group and DLQ topic: a second replay of them started meanwhile fences the first
  const producer: Producer = kafka.producer({
    transactionalId: `${group}.${state.topic}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  let done = 0; // messages replayed or passed over
  try {
    await readRanges({
      kafka,
      topic: state.topic,
      groupId: group,
      ranges: state.ranges,
      onBatch: async (batch, messages) => {
        const byTopic = new Map<string, { key: Buffer | null; value: Buffer | null }[]>();
        const passedOver = new Map<string, number>();
        for (const m of messages) {
          if (reasons !== undefined) {
            const { reason } = deadLetterOf(m);
            if (!reasons.has(reason)) {
              passedOver.set(reason, (passedOver.get(reason) ?? 0) + 1);
              continue;
            }
          }
          const topic = sourceTopicOf(state.topic, m.headers);
          let list = byTopic.get(topic);
          if (list === undefined) byTopic.set(topic, (list = []));
          list.push({ key: m.key, value: m.value });
        }
        const last = messages[messages.length - 1]!;
        const tx = await producer.transaction();
        try {
          // (a batch all passed over: the transaction holds only the offset commit)
          if (byTopic.size > 0)
            await tx.sendBatch({
              topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })),
              acks: -1,
              // as the dead letters came (dlq.ts): a message the broker took compressed fits again
              compression: CompressionTypes.GZIP,
            });
          await tx.sendOffsets({
            consumerGroupId: group,
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }],
              },
            ],
          });
          await tx.commit();
        } catch (err) {
          await tx.abort().catch(() => undefined);
          const where = `${batch.topic} partition ${batch.partition} offsets ${messages[0]!.offset}–${last.offset}`;
          throw new Error(
            `replaying ${where} ${byTopic.size > 0 ? `into ${[...byTopic.keys()].join(', ')}` : '(all passed over)'} failed, and none of them was replayed: ${
              err instanceof Error ? err.message : String(err)
            }`,
          );
        }
        let replayed = 0;
        for (const [topic, msgs] of byTopic) {
          result.byTopic[topic] = (result.byTopic[topic] ?? 0) + msgs.length;
          replayed += msgs.length;
        }
        for (const [reason, n] of passedOver) result.passedOver[reason] = (result.passedOver[reason] ?? 0) + n;
        result.replayed += replayed;
        done += messages.length;
        progress?.(done);
      },
    });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return result;
}
