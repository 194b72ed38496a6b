/**
 * Splits one send's messages into produce requests ("rounds") so that no partition's record batch
 * in a request holds more than `maxBytes`.
 *
 * kafkajs puts all of a request's messages for one partition into one record batch, and the broker
 * refuses a batch above its `message.max.bytes` (a topic's `max.message.bytes`, 1 MiB by default)
 * with MESSAGE_TOO_LARGE, which is not retryable. Everything that arrives while a produce request
 * is in flight goes in the next one (exporter.ts), so after a slow acknowledgement one request can
 * hold several MB per partition: compression does not make that safe (LZ4 shrinks spans ~3×, hashed
 * or random values hardly at all). The Collector's producers (sarama, franz-go) bound a partition's
 * batch by `max_message_bytes` the same way. A partition's messages keep their order: its rounds
 * only move forward.
 */

/**
 * Upper bound of one record's framing in a v2 record batch: its length, attributes, timestamp and
 * offset deltas, key and value lengths and header count, as varints (5 + 1 + 10 + 5 + 5 + 5 + 5). The
 * batch's own 61-byte header is left to the margin between `max_message_bytes` and the broker's limit.
 */
export const RECORD_OVERHEAD_BYTES = 36;

export interface RoundMessage {
  partition: number;
  key: string | null;
  value: Buffer;
}

/** Size a message adds to its partition's record batch (key and value bytes + framing). */
export function recordBytes(m: RoundMessage): number {
  return m.value.length + (m.key === null ? 0 : Buffer.byteLength(m.key)) + RECORD_OVERHEAD_BYTES;
}

/**
 * Rounds of `messages` in which each partition's messages add up to at most `maxBytes` (a message
 * larger than that on its own gets a round of its own for its partition). Usually one round.
 */
export function planProduceRounds<M extends RoundMessage>(messages: readonly M[], maxBytes: number): M[][] {
  const rounds: M[][] = [];
  /** per partition: the round it is filling and that round's bytes for it */
  const filling = new Map<number, { round: number; bytes: number }>();
  for (const m of messages) {
    const bytes = recordBytes(m);
    let at = filling.get(m.partition);
    if (at === undefined) filling.set(m.partition, (at = { round: 0, bytes: 0 }));
    else if (at.bytes + bytes > maxBytes) {
      at.round++;
      at.bytes = 0;
    }
    at.bytes += bytes;
    let round = rounds[at.round];
    if (round === undefined) rounds[at.round] = round = [];
    round.push(m);
  }
  return rounds;
}
