/**
 * Sieve's Kafka topics are created by whichever of its services starts first: the receiver creates
 * the topics its exporters write, the loader those it reads and their dead-letter topics. Both must,
 * since the local broker (and many managed clusters) has topic auto-creation off, and services
 * started together on a new cluster start in any order.
 */
import type { Admin } from 'kafkajs';

/** partitions of a topic Sieve creates: up to this many loaders share one topic's load */
export const TOPIC_PARTITIONS = 3;

/**
 * "the broker's default" for a new topic's partitions or replication factor (its `num.partitions`,
 * `default.replication.factor`). Brokers since Kafka 2.4 take it in any CreateTopics version.
 */
export const BROKER_DEFAULT = -1;

/** A topic to create when missing, and its partition count (default TOPIC_PARTITIONS). */
export interface TopicSpec {
  topic: string;
  partitions?: number;
}

/**
 * Creates those of `topics` that do not exist yet (one creating them meanwhile is fine), replicated as
 * the broker's `default.replication.factor` says; returns their names. One metadata request for all.
 */
export async function createMissingTopics(
  admin: Admin,
  topics: readonly (string | TopicSpec)[],
  partitions = TOPIC_PARTITIONS,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = new Map<string, number>();
  for (const t of topics) {
    const spec = typeof t === 'string' ? { topic: t } : t;
    if (!existing.has(spec.topic) && !missing.has(spec.topic)) missing.set(spec.topic, spec.partitions ?? partitions);
  }
  if (missing.size > 0)
    await admin.createTopics({
      waitForLeaders: true,
      topics: [...missing].map(([topic, numPartitions]) => ({
        topic,
        numPartitions,
        replicationFactor: BROKER_DEFAULT,
      })),
    });
  return [...missing.keys()];
}
