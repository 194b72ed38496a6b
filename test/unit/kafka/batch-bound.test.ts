// The loader's consumer refuses a compressed Kafka batch that would decompress to more than the
// batch limit (SIEVE_LOADER_MAX_BATCH_BYTES): a decompression bomb stops its partition with an error
// that names the setting, instead of taking the loader's memory. Each codec, both sides of the limit,
// and the LZ4 frame layouts other writers produce (stored blocks, checksums, a declared content size).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compressFrameSync } from 'lz4-napi';
import { compressSync } from 'snappy';
import { DEFAULT_MAX_BATCH_BYTES, getMaxBatchBytes, setMaxBatchBytes } from '../../../src/kafka/batch-bound.js';
import { decompressGzip } from '../../../src/kafka/gzip-codec.js';
import { decompressLz4, lz4FrameBound } from '../../../src/kafka/lz4-codec.js';
import { compressSnappy, decompressSnappy } from '../../../src/kafka/snappy-codec.js';

const MiB = 1024 * 1024;
after(() => setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES));
/** 8 MiB of one byte: compresses to a few KiB with every codec */
const BOMB = Buffer.alloc(8 * MiB, 0x61);
const refused = (codec: string) => ({
  message: new RegExp(`a ${codec} batch would decompress to more than ${2 * MiB} bytes.*SIEVE_LOADER_MAX_BATCH_BYTES`),
});

test('the default limit is 256 MiB; a limit that is not a positive integer is refused', () => {
  assert.equal(getMaxBatchBytes(), 256 * MiB);
  assert.throws(() => setMaxBatchBytes(0), RangeError);
  assert.throws(() => setMaxBatchBytes(1.5), RangeError);
});

test('gzip: a batch above the limit is refused (zlib stops there), one within it decompresses', () => {
  setMaxBatchBytes(2 * MiB);
  const bomb = gzipSync(BOMB);
  assert.ok(bomb.length < 64 * 1024, 'a small batch');
  assert.throws(() => decompressGzip(bomb), refused('gzip'));
  const within = Buffer.alloc(2 * MiB - 1, 0x61);
  assert.ok(decompressGzip(gzipSync(within)).equals(within));
  // a trailer that understates the size does not get past the limit
  const lying = Buffer.from(bomb);
  lying.writeUInt32LE(100, lying.length - 4);
  assert.throws(() => decompressGzip(lying), refused('gzip'));
});

test('Snappy: raw and xerial-framed batches above the limit are refused before decompressing', async () => {
  setMaxBatchBytes(2 * MiB);
  assert.throws(() => decompressSnappy(compressSync(BOMB)), refused('Snappy'));
  // xerial: 32 KiB blocks, refused once their declared sizes add up past the limit
  const framed = await compressSnappy(BOMB);
  assert.throws(() => decompressSnappy(framed), refused('Snappy'));
  const within = Buffer.alloc(2 * MiB, 0x61);
  assert.ok(decompressSnappy(compressSync(within)).equals(within));
  assert.ok(decompressSnappy(await compressSnappy(within)).equals(within));
});

test('LZ4: a frame whose blocks may hold more than the limit is refused before decompressing', () => {
  setMaxBatchBytes(2 * MiB);
  assert.throws(() => decompressLz4(compressFrameSync(BOMB)), refused('LZ4'));
  assert.throws(
    () => decompressLz4(compressFrameSync(BOMB, { blockChecksums: true, contentChecksum: true })),
    refused('LZ4'),
  );
  const within = Buffer.alloc(MiB, 0x61);
  assert.ok(decompressLz4(compressFrameSync(within)).equals(within));
});

test('LZ4 frame bound: per compressed block the block maximum or 255× its size, stored blocks their size, a declared content size, skippable frames', () => {
  // FLG 0x60 (version 01, independent blocks), BD 0x40 (64 KiB blocks), header checksum
  const header = (flg: number, extra: Buffer = Buffer.alloc(0)) =>
    Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, 0x40]), extra, Buffer.from([0])]);
  const block = (size: number, stored: boolean) => {
    const b = Buffer.alloc(4 + size);
    b.writeUInt32LE((stored ? 0x80000000 : 0) + size, 0);
    return b;
  };
  const end = Buffer.alloc(4);
  // compressed blocks: the block maximum, or 255 bytes per byte when less; a stored block: its size
  const frame = Buffer.concat([header(0x60), block(1000, false), block(100, false), block(50, true), end]);
  const frameBound = 64 * 1024 + 255 * 100 + 50;
  assert.equal(lz4FrameBound(frame), frameBound);
  const contentSize = Buffer.alloc(8);
  contentSize.writeUInt32LE(0, 0);
  contentSize.writeUInt32LE(1, 4); // 4 GiB declared
  assert.equal(lz4FrameBound(Buffer.concat([header(0x68, contentSize), block(10, false), end])), 2 ** 32);
  const skippable = Buffer.alloc(8 + 16);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(16, 4);
  assert.equal(lz4FrameBound(Buffer.concat([skippable, frame, frame])), 2 * frameBound);
  assert.equal(lz4FrameBound(Buffer.from('not lz4')), 0, 'not a frame: left to the decoder, which refuses it');
});
