// The loader's fetch decoding (src/kafka/unreadable-batch.ts) on message sets built with kafkajs' own
// record batch encoder: a batch that cannot be read ends its partition's messages with a stand-in
// carrying its offsets and error; outside the loader's consumer, kafkajs decodes as it always did.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, test } from 'node:test';
import { CompressionTypes } from 'kafkajs';
import '../../../src/kafka/compression.js';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../../../src/kafka/batch-bound.js';
import { isolatingUnreadableBatches, unreadableOf } from '../../../src/kafka/unreadable-batch.js';

const require = createRequire(import.meta.url);
type Encoder = { buffer: Buffer };
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (o: {
    compression?: number;
    firstOffset?: unknown;
    lastOffsetDelta?: number;
    records: Encoder[];
  }) => Promise<Encoder>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: {
  offsetDelta: number;
  value: Buffer;
}) => Encoder;
const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
// the module every fetch response version decodes a partition's messages with (patched on import)
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
  d: unknown,
) => Promise<{ offset: string; value: Buffer | null }[]>;

after(() => setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES));

async function batch(firstOffset: number, values: Buffer[], compression = CompressionTypes.None): Promise<Buffer> {
  const records = values.map((value, offsetDelta) => Record({ offsetDelta, value }));
  const encoded = await RecordBatch({
    compression,
    firstOffset: Long.fromInt(firstOffset),
    lastOffsetDelta: values.length - 1,
    records,
  });
  return encoded.buffer;
}

/** A partition's messages in a fetch response: their size, then the batches. */
function messageSet(...batches: Buffer[]): unknown {
  const body = Buffer.concat(batches);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return new Decoder(Buffer.concat([size, body]));
}

test('a batch past the limit ends the messages with a stand-in: its offsets and error; the batches before it are read, those after it are not', async () => {
  setMaxBatchBytes(1024 * 1024);
  const before = await batch(5, [Buffer.from('a'), Buffer.from('b')]);
  const bomb = await batch(7, [Buffer.alloc(2 * 1024 * 1024, 0x61), Buffer.from('c')], CompressionTypes.GZIP);
  const afterIt = await batch(9, [Buffer.from('d')]);

  const records = await isolatingUnreadableBatches(() => decodeMessages(messageSet(before, bomb, afterIt)));
  assert.deepEqual(
    records.map((r) => [r.offset, r.value?.toString() ?? null]),
    [
      ['5', 'a'],
      ['6', 'b'],
      ['8', null],
    ],
  );
  const unreadable = unreadableOf(records[2] as never);
  assert.equal(unreadable?.firstOffset, '7');
  assert.equal(
    unreadable?.lastOffset,
    '8',
    "the stand-in's offset is the batch's last: kafkajs hands it on from any fetch offset in it",
  );
  assert.match(String(unreadable?.error.message), /a gzip batch would decompress to more than 1048576 bytes/);
  assert.equal(unreadableOf(records[0] as never), undefined);

  // kafkajs' own decoding, for every other consumer: the fetch fails
  await assert.rejects(
    decodeMessages(messageSet(before, bomb, afterIt)),
    /would decompress to more than 1048576 bytes/,
  );
});

test('a batch cut at the end of the fetch is left for the next fetch, as kafkajs leaves it (no stand-in)', async () => {
  const first = await batch(0, [Buffer.from('a')]);
  const cut = (await batch(1, [Buffer.alloc(1000, 0x62)])).subarray(0, 300);
  const records = await isolatingUnreadableBatches(() => decodeMessages(messageSet(first, cut)));
  assert.deepEqual(
    records.map((r) => r.offset),
    ['0'],
  );
  assert.equal(unreadableOf(records[0] as never), undefined);
});
