// Sieve's LZ4 and Snappy Kafka codecs: what kafkajs' registry holds after importing the compression
// module (zstd: zstd-codec.test.ts), round trips of any size, the formats other Kafka clients write (LZ4 frames with checksums,
// raw Snappy, xerial-framed Snappy in several blocks), and corrupt or truncated input refused with an
// error, never a wrong buffer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { compressFrameSync } from 'lz4-napi';
import { compressSync } from 'snappy';
import { kafkajsCompression } from '../../../src/kafka/compression.js';
import { compressSnappy, decompressSnappy } from '../../../src/kafka/snappy-codec.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
const SIZES = [0, 1, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 65_536 * 3 + 17, 1_500_000];
/** half random (incompressible), half repeated */
const sample = (n: number) => Buffer.concat([randomBytes(n >> 1), Buffer.alloc(n - (n >> 1), 'span')]);
type CodecType = typeof CompressionTypes.GZIP | typeof CompressionTypes.LZ4 | typeof CompressionTypes.Snappy;
const codec = (type: CodecType) => CompressionCodecs[type]();

test('producer.compression names map to kafkajs codec types, each registered', () => {
  assert.equal(kafkajsCompression('gzip'), CompressionTypes.GZIP);
  assert.equal(kafkajsCompression('lz4'), CompressionTypes.LZ4);
  assert.equal(kafkajsCompression('snappy'), CompressionTypes.Snappy);
  assert.equal(kafkajsCompression('none'), CompressionTypes.None);
  for (const type of [
    CompressionTypes.GZIP,
    CompressionTypes.LZ4,
    CompressionTypes.Snappy,
    CompressionTypes.ZSTD,
  ] as const)
    assert.equal(typeof CompressionCodecs[type], 'function', `codec ${type}`);
});

test('LZ4: kafkajs batches of any size round-trip, as an LZ4 frame (magic 0x184D2204)', async () => {
  const lz4 = codec(CompressionTypes.LZ4);
  for (const n of SIZES) {
    const original = sample(n);
    const compressed: Buffer = await lz4.compress({ buffer: original });
    assert.equal(compressed.readUInt32LE(0), 0x184d2204, `${n} bytes: frame magic`);
    assert.ok(((await lz4.decompress(compressed)) as Buffer).equals(original), `${n} bytes`);
  }
});

test('LZ4: frames with block and content checksums (as other writers may set) read back', async () => {
  const original = sample(300_000);
  const framed = compressFrameSync(original, { blockChecksums: true, contentChecksum: true });
  assert.ok(((await codec(CompressionTypes.LZ4).decompress(framed)) as Buffer).equals(original));
});

test('LZ4: corrupt or truncated frames are errors', async () => {
  const lz4 = codec(CompressionTypes.LZ4);
  const good: Buffer = await lz4.compress({ buffer: sample(200_000) });
  await assert.rejects(lz4.decompress(good.subarray(0, good.length - 100)));
  await assert.rejects(lz4.decompress(Buffer.from('not an lz4 frame at all')));
  const checksummed = compressFrameSync(sample(100_000), { contentChecksum: true });
  checksummed.writeUInt8((checksummed.at(-1) as number) ^ 0xff, checksummed.length - 1);
  await assert.rejects(lz4.decompress(checksummed));
});

test('Snappy: written in xerial framing, one block per 32 KiB, and read back for any size', async () => {
  for (const n of SIZES) {
    const original = sample(n);
    const framed = await compressSnappy(original);
    assert.ok(framed.subarray(0, 8).equals(Buffer.from('\x82SNAPPY\x00', 'latin1')), `${n} bytes: xerial magic`);
    let blocks = 0;
    for (let at = 16; at < framed.length; at += 4 + framed.readInt32BE(at)) blocks++;
    assert.equal(blocks, Math.ceil(n / (32 * 1024)), `${n} bytes: blocks`);
    assert.ok(decompressSnappy(framed).equals(original), `${n} bytes`);
    assert.ok(((await codec(CompressionTypes.Snappy).decompress(framed)) as Buffer).equals(original));
  }
});

test('Snappy: raw Snappy (sarama, kafkajs-snappy) reads back too', () => {
  const original = sample(250_000);
  assert.ok(decompressSnappy(compressSync(original) as Buffer).equals(original));
});

test('Snappy: a truncated xerial frame or corrupt block is an error', async () => {
  const framed = await compressSnappy(sample(100_000));
  assert.throws(() => decompressSnappy(framed.subarray(0, framed.length - 10)), /past the end/);
  assert.throws(() => decompressSnappy(framed.subarray(0, 18)), /truncated/);
  const corrupt = Buffer.from(framed);
  corrupt.fill(0xff, 24, 64);
  assert.throws(() => decompressSnappy(corrupt));
  assert.throws(() => decompressSnappy(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])));
});
