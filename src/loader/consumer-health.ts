/**
 * The loader's Kafka consumer, watched.
 *
 * When the consumer fails — the broker gone for longer than kafkajs retries, the group refused, an
 * error from the batch handler (a dead letter the DLQ topic refuses) — kafkajs stops it and, for a
 * retriable error, restarts it after a wait; with kafkajs' own logging off nothing said so, and the
 * lag gauges (set after commits) stood still. So each failure is logged with kafkajs' error and
 * counted in sieve_loader_consumer_crashes_total, the loader is not ready from a failure until a fetch
 * succeeds again, and a failure kafkajs does not restart after resolves `failed`.
 *
 * A batch the consumer cannot read (past SIEVE_LOADER_MAX_BATCH_BYTES, corrupt) is not such a
 * failure: kafka/unreadable-batch.ts hands it on as a stand-in, and it holds only its partition,
 * which is tracked here (sieve_loader_unreadable_partitions, not ready meanwhile), paused and fetched
 * again every UNREADABLE_RETRY_MS, the error logged each time.
 */
import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { UnreadableBatch } from '../kafka/unreadable-batch.js';

/** how long a partition at an unreadable batch waits before it is fetched again */
export const UNREADABLE_RETRY_MS = 30_000;

export interface ConsumerHealth {
  /** false from a failure of the consumer until its next successful fetch */
  fetching(): boolean;
  /** no partition waits at an unreadable batch */
  allReadable(): boolean;
  /** the partition waits at `batch`: logged, counted, paused for UNREADABLE_RETRY_MS */
  unreadable(topic: string, partition: number, batch: UnreadableBatch): void;
  /** the partition has gone on past its unreadable batch */
  readable(topic: string, partition: number): void;
  /** a new group generation: partitions are assigned anew (and fetched from their commits) */
  newGeneration(): void;
  /** cancels the pending resumes (the loader stops) */
  close(): void;
  /** resolves with the error of a failure kafkajs does not restart the consumer after (it stays stopped) */
  failed: Promise<Error>;
}

export function watchConsumer(
  consumer: Consumer,
  metrics: { crashes: Counter; unreadable: Gauge },
  logger: Logger,
): ConsumerHealth {
  const { crashes } = metrics;
  const waiting = new Map<string, { topic: string; partition: number; resume: NodeJS.Timeout }>(); // by "topic/partition"
  const setGauge = () => metrics.unreadable.set(waiting.size);
  /** kafkajs throws while its consumer restarts (no group): the partition is then fetched anew anyway */
  const quietly = (f: () => void) => {
    try {
      f();
    } catch {}
  };
  let fetching = true;
  let fail: (err: Error) => void = () => {};
  const failed = new Promise<Error>((resolve) => {
    fail = resolve;
  });
  consumer.on(consumer.events.FETCH, () => {
    if (!fetching) logger.info('Kafka consumer fetching again');
    fetching = true;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    fetching = false;
    crashes.inc();
    const { error, restart } = payload;
    logger.error(
      { err: error.message, kafkaError: error.name, restart },
      restart
        ? 'Kafka consumer failed: nothing is fetched until kafkajs restarts it (after a wait)'
        : 'Kafka consumer failed and does not restart: nothing more is loaded until the loader is restarted',
    );
    if (!restart) fail(error);
  });
  return {
    fetching: () => fetching,
    failed,
    allReadable: () => waiting.size === 0,
    unreadable(topic, partition, batch) {
      const key = `${topic}/${partition}`;
      clearTimeout(waiting.get(key)?.resume);
      logger.error(
        { topic, partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, err: batch.error.message },
        `Kafka batch unreadable: its partition waits at it (fetched again every ${UNREADABLE_RETRY_MS / 1000} s), the others go on`,
      );
      quietly(() => consumer.pause([{ topic, partitions: [partition] }]));
      const resume = setTimeout(
        () => quietly(() => consumer.resume([{ topic, partitions: [partition] }])),
        UNREADABLE_RETRY_MS,
      );
      resume.unref();
      waiting.set(key, { topic, partition, resume });
      setGauge();
    },
    readable(topic, partition) {
      if (waiting.size === 0) return; // (every batch of every partition comes here)
      const key = `${topic}/${partition}`;
      const w = waiting.get(key);
      if (w === undefined) return;
      clearTimeout(w.resume);
      waiting.delete(key);
      setGauge();
      logger.info({ topic, partition }, 'Kafka partition readable again');
    },
    newGeneration() {
      // kafkajs keeps a pause across rebalances: the partitions are resumed, wherever they are now read
      for (const w of waiting.values()) {
        clearTimeout(w.resume);
        quietly(() => consumer.resume([{ topic: w.topic, partitions: [w.partition] }]));
      }
      waiting.clear();
      setGauge();
    },
    close() {
      for (const w of waiting.values()) clearTimeout(w.resume);
    },
  };
}
