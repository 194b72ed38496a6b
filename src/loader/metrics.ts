import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The loader's Prometheus metrics (names are part of the dashboards' and alerts' contract). */
export function loaderMetrics(registry: Registry) {
  return {
    rows: new Counter({
      name: 'sieve_loader_rows_inserted_total',
      help: 'Rows inserted into ClickHouse',
      labelNames: ['table'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'sieve_loader_insert_duration_seconds',
      help: 'ClickHouse insert latency',
      labelNames: ['table'],
      registers: [registry],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    messageAge: new Histogram({
      name: 'sieve_loader_message_age_seconds',
      help: "Seconds from a message's Kafka timestamp (when it was produced) to its rows being in ClickHouse (or it in the DLQ): the loader's part of data freshness",
      labelNames: ['topic'],
      registers: [registry],
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
    }),
    dlq: new Counter({
      name: 'sieve_loader_dlq_messages_total',
      help: 'Messages sent to the DLQ (reason: undecodable, or refused by ClickHouse)',
      labelNames: ['topic', 'reason'],
      registers: [registry],
    }),
    unknown: new Counter({
      name: 'sieve_loader_cost_unknown_model_total',
      help: 'GenAI spans whose model has no price',
      labelNames: ['provider', 'model'],
      registers: [registry],
    }),
    invalidUsage: new Counter({
      name: 'sieve_loader_genai_invalid_usage_total',
      help: 'GenAI token counts or costs that were negative, not numbers, or absurd (> 1e9 tokens): not summed into cost; the span still loads',
      labelNames: ['field', 'dialect'],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'sieve_loader_consumer_lag',
      help: 'Messages behind the high watermark after the last committed batch',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    consumerCrashes: new Counter({
      name: 'sieve_loader_consumer_crashes_total',
      help: "Failures of the loader's Kafka consumer (a fetch it could not read, a group error): fetching stops until kafkajs restarts it",
      registers: [registry],
    }),
    unreadablePartitions: new Gauge({
      name: 'sieve_loader_unreadable_partitions',
      help: 'Partitions waiting at a Kafka batch the loader cannot read (past SIEVE_LOADER_MAX_BATCH_BYTES, corrupt): logged with its offsets',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'sieve_loader_insert_retries_total',
      help: 'Insert attempts that failed and were retried',
      registers: [registry],
    }),
    queued: new Gauge({
      name: 'sieve_loader_queued_bytes',
      help: 'Message bytes decoded and waiting for their ClickHouse insert',
      registers: [registry],
    }),
  };
}

export type LoaderMetrics = ReturnType<typeof loaderMetrics>;

/**
 * Records how long each of a job's messages took from its Kafka timestamp to `nowMs`, when the job's
 * rows were inserted (its undecodable messages are in the DLQ by then). Producers' clocks may run
 * ahead: never below 0. A message without a timestamp is not counted.
 */
export function observeMessageAges(
  m: LoaderMetrics,
  job: { topic: string; messages: readonly { timestamp: string }[] },
  nowMs: number,
): void {
  const h = m.messageAge.labels({ topic: job.topic });
  for (const message of job.messages) {
    const at = Number(message.timestamp);
    if (at > 0) h.observe(Math.max(0, nowMs - at) / 1000);
  }
}
