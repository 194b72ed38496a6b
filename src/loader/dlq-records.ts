/**
 * Dead letters as `sieve dlq` reads them back: the headers DeadLetters (dlq.ts) writes, parsed, and a
 * summary of what is waiting (counts by reason, table and kind of error). Pure: no Kafka here.
 */
import type { IHeaders } from 'kafkajs';

/** The DLQ topic of a loader topic. */
export const DLQ_SUFFIX = '.dlq';

/** The headers a dead letter carries (written by DeadLetters in dlq.ts, read back here). */
export const DLQ_HEADER = {
  reason: 'reason',
  error: 'error',
  table: 'refused.table',
  topic: 'original.topic',
  partition: 'original.partition',
  offset: 'original.offset',
} as const;

export function dlqTopicOf(topic: string): string {
  return topic.endsWith(DLQ_SUFFIX) ? topic : `${topic}${DLQ_SUFFIX}`;
}

/** The topic a dead letter came from: its `original.topic` header, else the DLQ topic's name without `.dlq`. */
export function sourceTopicOf(dlqTopic: string, headers: IHeaders | undefined): string {
  const original = headerText(headers, DLQ_HEADER.topic);
  if (original !== undefined && original !== '') return original;
  return dlqTopic.endsWith(DLQ_SUFFIX) ? dlqTopic.slice(0, -DLQ_SUFFIX.length) : dlqTopic;
}

export interface DeadLetter {
  /** `undecodable` or `refused` (dlq.ts), or `unknown` for a message written there by something else */
  reason: string;
  /** the table ClickHouse refused the rows for (reason `refused`) */
  table: string;
  error: string;
  /** the Kafka timestamp of the dead letter (when it went to the DLQ), ms */
  timestampMs: number;
}

export function deadLetterOf(message: { headers?: IHeaders; timestamp: string }): DeadLetter {
  return {
    reason: headerText(message.headers, DLQ_HEADER.reason) ?? 'unknown',
    table: headerText(message.headers, DLQ_HEADER.table) ?? '',
    error: headerText(message.headers, DLQ_HEADER.error) ?? '',
    timestampMs: Number(message.timestamp),
  };
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : String(first);
}

/** How long an error's text may be in the summary */
const ERROR_TEXT = 110;

/**
 * An error's text as the summary groups it: its first line, numbers standing alone as `N` (row
 * numbers, offsets and values differ from one message to the next), cut to a line.
 */
export function errorKind(error: string): string {
  const line = (error.split('\n')[0] ?? '').replace(/\b\d+(\.\d+)?\b/g, 'N').trim();
  return line.length > ERROR_TEXT ? `${line.slice(0, ERROR_TEXT - 1)}…` : line;
}

interface Group {
  reason: string;
  table: string;
  error: string;
  count: number;
}

/**
 * Kinds of error kept apart; past them, further kinds count together as one (an error that quotes
 * each message's own values makes a kind per message, and a DLQ can hold millions).
 */
export const MAX_ERROR_KINDS = 1000;
const OTHER_KINDS = '(other errors: more kinds than the summary keeps)';

/** Dead letters added one by one; `lines()` says what they are, most frequent kind first. */
export class DeadLetterSummary {
  count = 0;
  private oldestMs = Number.POSITIVE_INFINITY;
  private newestMs = Number.NEGATIVE_INFINITY;
  private readonly groups = new Map<string, Group>();

  add(d: DeadLetter): void {
    this.count++;
    if (Number.isFinite(d.timestampMs)) {
      this.oldestMs = Math.min(this.oldestMs, d.timestampMs);
      this.newestMs = Math.max(this.newestMs, d.timestampMs);
    }
    let error = errorKind(d.error);
    let key = `${d.reason}\u0000${d.table}\u0000${error}`;
    if (this.groups.size >= MAX_ERROR_KINDS && !this.groups.has(key)) {
      error = OTHER_KINDS;
      key = `\u0000\u0000${OTHER_KINDS}`;
    }
    const g = this.groups.get(key);
    if (g === undefined)
      this.groups.set(key, {
        reason: error === OTHER_KINDS ? '-' : d.reason,
        table: error === OTHER_KINDS ? '' : d.table,
        error,
        count: 1,
      });
    else g.count++;
  }

  /** One line per reason, table and kind of error (at most `most`, then how many more), then the time span. */
  lines(most = 10): string[] {
    const groups = [...this.groups.values()].sort(
      (a, b) =>
        b.count - a.count ||
        a.reason.localeCompare(b.reason) ||
        a.table.localeCompare(b.table) ||
        a.error.localeCompare(b.error),
    );
    const width = String(groups[0]?.count ?? 0).length;
    const out = groups
      .slice(0, most)
      .map(
        (g) =>
          `${String(g.count).padStart(width)}  ${g.reason.padEnd(11)} ${(g.table || '-').padEnd(14)} ${g.error || '(no error header)'}`,
      );
    if (groups.length > most) out.push(`… and ${groups.length - most} more kinds of error`);
    if (this.count > 0 && Number.isFinite(this.oldestMs))
      out.push(
        `sent to the DLQ from ${new Date(this.oldestMs).toISOString()} to ${new Date(this.newestMs).toISOString()}`,
      );
    return out;
  }
}
