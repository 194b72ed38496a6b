import { CompressionTypes, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { DLQ_HEADER, DLQ_SUFFIX } from './dlq-records.js';
import type { LoaderMetrics } from './metrics.js';
import { type Backoff, retryWithBackoff } from './retry.js';

/** why the loader dead-lettered a message: it could not become rows, or ClickHouse refused its rows */
export const DLQ_REASONS = ['undecodable', 'refused'] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];

/** Dead letters: a message goes to `<topic>.dlq` as it was, with why and where it came from in headers. */
export class DeadLetters {
  constructor(
    private readonly producer: Producer,
    private readonly metrics: LoaderMetrics,
    private readonly logger: Logger,
  ) {}

  async send(topic: string, partition: number, msg: KafkaMessage, reason: DlqReason, error: string, table?: string) {
    await this.producer.send({
      topic: `${topic}${DLQ_SUFFIX}`,
      // compressed: the message reached its topic in a compressed batch, whose size is what the broker
      // limits (max.message.bytes); sent uncompressed, a large one is refused and its partition stops
      compression: CompressionTypes.GZIP,
      messages: [
        {
          key: msg.key,
          value: msg.value,
          headers: {
            [DLQ_HEADER.error]: error,
            [DLQ_HEADER.reason]: reason,
            ...(table ? { [DLQ_HEADER.table]: table } : {}),
            [DLQ_HEADER.topic]: topic,
            [DLQ_HEADER.partition]: String(partition),
            [DLQ_HEADER.offset]: msg.offset,
          },
        },
      ],
    });
    this.metrics.dlq.inc({ topic, reason });
    this.logger.warn({ topic, partition, offset: msg.offset, reason, table, err: error }, 'message sent to the DLQ');
  }

  /** For refusals found by the insert worker: retried until sent (or stopping), since its offset is committed next. */
  sendWithRetry(
    topic: string,
    partition: number,
    msg: KafkaMessage,
    table: string,
    error: string,
    backoff: Backoff,
    stopping: () => boolean,
  ): Promise<void> {
    return retryWithBackoff(
      () => this.send(topic, partition, msg, 'refused', error, table),
      backoff,
      stopping,
      (err, retryInMs) => this.logger.warn({ err: String(err), topic, retryInMs }, 'DLQ send failed; retrying'),
    );
  }
}
