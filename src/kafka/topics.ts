/**
 * Sieve's Kafka topics are created by whichever of its services starts first: the receiver creates
 * the topics its exporters write, the loader those it reads. Both must, since the local broker (and
 * many managed clusters) has topic auto-creation off, and services started together on a new
 * cluster start in any order.
 */
import type { Admin } from 'kafkajs';

/** partitions of a topic Sieve creates: up to this many loaders share one topic's load */
export const TOPIC_PARTITIONS = 3;

/** Creates those of `topics` that do not exist yet (one creating them meanwhile is fine); returns their names. */
export async function createMissingTopics(
  admin: Admin,
  topics: readonly string[],
  partitions = TOPIC_PARTITIONS,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = [...new Set(topics)].filter((t) => !existing.has(t));
  if (missing.length > 0)
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  return missing;
}
