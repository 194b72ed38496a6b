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
 *
 * A loader holding several partitions of a topic inserts their jobs as one block (one part, one
 * token naming every member's range; the engine's cost is per part, and one insert per partition made
 * a row wait for as many inserts as the loader holds partitions). Each member's range commit then
 * also names the whole group ("sieve-range:<first>-<last>;group:<p>:<first>-<last>,…"): whoever
 * re-reads any member repeats the whole group insert, reading the other members' ranges itself
 * (range-reader.ts) when they belong to another loader now, with the same token.
 */
import type { KafkaMessage } from 'kafkajs';

export interface OffsetRange {
  first: string;
  last: string;
}

/** One member of a combined insert: a partition and its range. */
export interface PartitionRange extends OffsetRange {
  partition: number;
}

/** A range, and the combined insert it went into when that had other members (sorted by partition). */
export interface CommittedRange extends OffsetRange {
  group?: readonly PartitionRange[];
}

const PREFIX = 'sieve-range:';
const GROUP = ';group:';
/** the most partitions one combined insert takes (each adds ~25 bytes to every member's offset metadata, which Kafka caps at 4 KiB by default) */
export const MAX_GROUP_PARTITIONS = 16;

export function rangeMetadata(r: CommittedRange): string {
  const own = `${PREFIX}${r.first}-${r.last}`;
  if (r.group === undefined || r.group.length < 2) return own;
  return `${own}${GROUP}${r.group.map((g) => `${g.partition}:${g.first}-${g.last}`).join(',')}`;
}

const RANGE = /^(\d+)-(\d+)$/;
const MEMBER = /^(\d+):(\d+)-(\d+)$/;

export function parseRangeMetadata(metadata: string | null | undefined): CommittedRange | undefined {
  if (!metadata?.startsWith(PREFIX)) return undefined;
  const body = metadata.slice(PREFIX.length);
  const at = body.indexOf(GROUP);
  const m = RANGE.exec(at < 0 ? body : body.slice(0, at));
  if (!m || BigInt(m[1] as string) > BigInt(m[2] as string)) return undefined;
  const range: CommittedRange = { first: m[1] as string, last: m[2] as string };
  if (at < 0) return range;
  const group: PartitionRange[] = [];
  for (const member of body.slice(at + GROUP.length).split(',')) {
    const g = MEMBER.exec(member);
    if (!g || BigInt(g[2] as string) > BigInt(g[3] as string)) return undefined;
    group.push({ partition: Number(g[1]), first: g[2] as string, last: g[3] as string });
  }
  if (group.length < 2 || group.length > MAX_GROUP_PARTITIONS) return undefined;
  if (!group.some((g) => g.first === range.first && g.last === range.last)) return undefined;
  for (let i = 1; i < group.length; i++)
    if ((group[i] as PartitionRange).partition <= (group[i - 1] as PartitionRange).partition) return undefined;
  return { ...range, group };
}

/**
 * The deduplication token of an insert into `table`: a partition's range, as it always was; a
 * combined insert names every member's range.
 */
export function insertToken(topic: string, members: readonly PartitionRange[], table: string): string {
  if (members.length === 1) {
    const m = members[0] as PartitionRange;
    return `${topic}-${m.partition}-${m.first}-${m.last}-${table}`;
  }
  return `${topic}-${members.map((m) => `${m.partition}:${m.first}-${m.last}`).join('+')}-${table}`;
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
