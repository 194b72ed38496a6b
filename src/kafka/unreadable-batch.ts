/**
 * One Kafka record batch the consumer cannot read (past SIEVE_LOADER_MAX_BATCH_BYTES, corrupt, an
 * unknown codec) holds up only its own partition, for the consumers that ask for it.
 *
 * kafkajs 2.2.4 (its last release) decodes a broker's fetch response whole: a batch that fails to
 * decode fails the fetch, so every partition in it — with one broker, every partition the loader
 * reads — waits behind it. For a consumer run inside `isolatingUnreadableBatches`, a partition's
 * message set is decoded batch by batch as kafkajs does (fetch/v4/decodeMessages.js, used by every
 * fetch version kafkajs speaks), but a batch that fails ends that partition's messages with a
 * stand-in record instead of throwing: it carries the error and the batch's offsets (`unreadableOf`),
 * and its offset is the batch's last, so that kafkajs hands it on whatever offset the fetch started
 * at. The consumer must not resolve past it: the partition is fetched from that batch again, and the
 * other partitions go on. Other consumers (the DLQ replay's, the range reader's) decode as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { KafkaMessage } from 'kafkajs';

export interface UnreadableBatch {
  error: Error;
  /** the batch's first and last offsets */
  firstOffset: string;
  lastOffset: string;
}

const UNREADABLE = Symbol.for('sieve.kafkajs.unreadable-batch');

/** The unreadable batch `message` stands in for, or undefined for a message of the topic. */
export function unreadableOf(message: KafkaMessage): UnreadableBatch | undefined {
  return (message as KafkaMessage & { [UNREADABLE]?: UnreadableBatch })[UNREADABLE];
}

const isolating = new AsyncLocalStorage<true>();

/** Runs `start` (a consumer's run()) so that its fetches decode with unreadable batches isolated. */
export function isolatingUnreadableBatches<T>(start: () => T): T {
  return isolating.run(true, start);
}

interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  readBytes(n: number): Buffer;
  canReadBytes(n: number): boolean;
}
type DecodeMessages = (decoder: KafkajsDecoder) => Promise<unknown[]>;

const require = createRequire(import.meta.url);
const DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkajsDecoder;
const MessageSetDecoder = require('kafkajs/src/protocol/messageSet/decoder.js') as (
  d: KafkajsDecoder,
  size: number,
) => Promise<unknown[]>;
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  d: KafkajsDecoder,
) => Promise<{ records: unknown[] }>;
const { MAGIC_BYTE } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { MAGIC_BYTE: number };
// as decodeMessages.js: where the magic byte is, and the least a record batch takes
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
// a record batch's header: FirstOffset int64, Length int32, PartitionLeaderEpoch int32, Magic int8,
// CRC int32, Attributes int16, LastOffsetDelta int32 (at 23)
const LAST_OFFSET_DELTA_AT = 23;

/** decodeMessages.js, but a batch that fails ends the messages with its stand-in (see above). */
async function decodeIsolated(decoder: KafkajsDecoder): Promise<unknown[]> {
  const messagesSize = decoder.readInt32();
  if (messagesSize <= 0 || !decoder.canReadBytes(messagesSize)) return [];
  const messagesBuffer = decoder.readBytes(messagesSize);
  const messagesDecoder = new Decoder(messagesBuffer);
  if (messagesBuffer.subarray(MAGIC_OFFSET).readInt8(0) !== MAGIC_BYTE)
    return MessageSetDecoder(messagesDecoder, messagesSize);
  const records: unknown[] = [];
  while (messagesDecoder.canReadBytes(RECORD_BATCH_OVERHEAD)) {
    const at = messagesDecoder.offset;
    try {
      const batch = await RecordBatchDecoder(messagesDecoder);
      for (const r of batch.records) records.push(r);
    } catch (e) {
      // the tail of a fetch may hold a batch cut at the fetch's size: as kafkajs, not an error
      if ((e as Error).name === 'KafkaJSPartialMessageError') break;
      const first = messagesBuffer.readBigInt64BE(at);
      const last = first + BigInt(messagesBuffer.readInt32BE(at + LAST_OFFSET_DELTA_AT));
      records.push(standIn(e as Error, first.toString(), last.toString()));
      break;
    }
  }
  return records;
}

function standIn(error: Error, firstOffset: string, lastOffset: string): KafkaMessage {
  return {
    magicByte: MAGIC_BYTE,
    attributes: 0,
    timestamp: '0',
    offset: lastOffset,
    key: null,
    value: null,
    headers: {},
    isControlRecord: false,
    batchContext: { firstOffset, inTransaction: false, isControlBatch: false, producerId: '-1' },
    [UNREADABLE]: { error, firstOffset, lastOffset },
  } as unknown as KafkaMessage;
}

// every fetch response version kafkajs speaks requires this module when it is first used (lazily, at
// a consumer's first fetch): its cached exports are replaced before that
const PATCHED = Symbol.for('sieve.kafkajs.unreadable-batch.patched');
const path = require.resolve(DECODE_MESSAGES);
const original = require(path) as DecodeMessages & { [PATCHED]?: true };
if (!original[PATCHED]) {
  const patched: DecodeMessages & { [PATCHED]?: true } = (decoder) =>
    isolating.getStore() ? decodeIsolated(decoder) : original(decoder);
  patched[PATCHED] = true;
  (require.cache[path] as NodeModule).exports = patched;
}
