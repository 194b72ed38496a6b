/**
 * The loader's Kafka consumer, watched.
 *
 * When a fetch fails — a batch past SIEVE_LOADER_MAX_BATCH_BYTES, a batch it cannot decode, the broker
 * refusing the group — kafkajs retries it, then stops the consumer and restarts it after a wait; with
 * kafkajs' own logging off nothing said so. A failed fetch also stops more than its batch's partition:
 * kafkajs decodes a broker's fetch response whole, so every partition this loader reads from that broker
 * waits with it, and their lag gauges (set after commits) stand still.
 *
 * So each failure is logged with kafkajs' error (which names the setting to change, for a batch past
 * the limit) and counted in sieve_loader_consumer_crashes_total, and the loader is not ready from a
 * failure until a fetch succeeds again.
 */
import type { Consumer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';

export interface ConsumerHealth {
  /** false from a failure of the consumer until its next successful fetch */
  fetching(): boolean;
  /** resolves with the error of a failure kafkajs does not restart the consumer after (it stays stopped) */
  failed: Promise<Error>;
}

export function watchConsumer(consumer: Consumer, crashes: Counter, logger: Logger): ConsumerHealth {
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
        ? 'Kafka consumer failed: nothing is fetched from the partitions of that fetch until it restarts (kafkajs restarts it after a wait)'
        : 'Kafka consumer failed and does not restart: nothing more is loaded until the loader is restarted',
    );
    if (!restart) fail(error);
  });
  return { fetching: () => fetching, failed };
}
