/**
 * Exactly-once across rebalances and crashes.
 *
 * ClickHouse drops a repeated insert only when its deduplication token repeats, and the token names
 * the job's offset range. A loader that re-reads a partition (after a crash, or when the partition
 * moves to another loader) fetches from the last committed offset, but its fetch may end elsewhere
 * than the batch that was being inserted — different range, different token, doubled rows.
 *
 * So before inserting a job the loader commits the offset it already had, with the job's range as
 * the commit's metadata ("sieve-range:<first>-<last>"). Whoever reads the partition next finds that
 * range next to the committed offset and cuts its first batch at the same last offset: same range,
 * same token, and ClickHouse drops whichever insert comes second.
 */
import type { KafkaMessage } from 'kafkajs';

export interface OffsetRange {
  first: string;
  last: string;
}

const PREFIX = 'sieve-range:';

export function rangeMetadata(r: OffsetRange): string {
  return `${PREFIX}${r.first}-${r.last}`;
}

export function parseRangeMetadata(metadata: string | null | undefined): OffsetRange | undefined {
  if (!metadata?.startsWith(PREFIX)) return undefined;
  const m = /^(\d+)-(\d+)$/.exec(metadata.slice(PREFIX.length));
  if (!m || BigInt(m[1] as string) > BigInt(m[2] as string)) return undefined;
  return { first: m[1] as string, last: m[2] as string };
}

/**
 * Cuts a fetched batch so that its first part is exactly the range a previous reader was inserting,
 * when the batch starts where that range starts. `short` is set when the batch ends before the
 * range does (the previous range cannot be reproduced from this fetch).
 */
export function alignToRange(
  messages: KafkaMessage[],
  range: OffsetRange | undefined,
): { parts: KafkaMessage[][]; short: boolean } {
  const first = messages[0];
  if (range === undefined || first === undefined || first.offset !== range.first)
    return { parts: [messages], short: false };
  const last = BigInt(range.last);
  let cut = 0;
  while (cut < messages.length && BigInt((messages[cut] as KafkaMessage).offset) <= last) cut++;
  const short = BigInt((messages[messages.length - 1] as KafkaMessage).offset) < last;
  if (cut === messages.length) return { parts: [messages], short };
  return { parts: [messages.slice(0, cut), messages.slice(cut)], short: false };
}
