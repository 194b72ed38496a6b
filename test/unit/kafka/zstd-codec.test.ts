// The loader's consumer reads zstd batches (a Collector's or another client's `compression: zstd`):
// frames with and without a declared size, several frames in one batch, and blocks past the first;
// a batch that would decompress past the batch limit is refused at the limit whatever the frame
// declares, and a frame that declares more (a window or size past the limit) before any allocation;
// corrupt, truncated or foreign bytes fail with an error (never a hang). Sieve writes no zstd.
// Fixtures made with the zstd CLI (v1.5.4) from src/otlp/testdata/traces.pb (1,245 bytes):
//   traces.pb.zst        zstd -3 --no-content-size   (a streamed frame, as Kafka's Java producer writes)
//   traces.pb.sized.zst  zstd -19                    (a frame that declares its size)
//   traces.pb.twice.zst  the two above, concatenated
//   traces.pb.x400.zst   400 copies (498 KB), zstd -3 --no-content-size --zstd=wlog=12: four blocks of
//                        up to 128 KiB, a 4 KiB window
//   bomb-8MiB.zst        8 MiB of "a", zstd -19 (274 bytes; it declares its size)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import kafkajs from 'kafkajs';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../../../src/kafka/batch-bound.js';
import '../../../src/kafka/compression.js';
import { decompressZstd, ZSTD_NOT_WRITTEN, zstdLargestFrameMemory } from '../../../src/kafka/zstd-codec.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'zstd', name));
const traces = readFileSync(join(ROOT, 'src', 'otlp', 'testdata', 'traces.pb'));
const MiB = 1024 * 1024;
after(() => setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES));

test('a streamed frame, a sized one, two in a row and a multi-block one decompress to what was compressed', () => {
  assert.ok(decompressZstd(fixture('traces.pb.zst')).equals(traces));
  assert.ok(decompressZstd(fixture('traces.pb.sized.zst')).equals(traces));
  assert.ok(decompressZstd(fixture('traces.pb.twice.zst')).equals(Buffer.concat([traces, traces])));
  const x400 = decompressZstd(fixture('traces.pb.x400.zst'));
  assert.equal(x400.length, 400 * traces.length);
  for (let i = 0; i < 400; i++) assert.ok(x400.subarray(i * traces.length, (i + 1) * traces.length).equals(traces));
});

test('kafkajs reads zstd batches through the registered codec, and Sieve refuses to write them', async () => {
  const zstd = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.ZSTD]();
  assert.ok((await zstd.decompress(fixture('traces.pb.zst'))).equals(traces));
  await assert.rejects(zstd.compress({ buffer: traces }), { message: ZSTD_NOT_WRITTEN });
});

/** A zstd frame of one raw block ("hello"), its window descriptor `w`: no size declared, no checksum. */
const helloFrame = (w: number) =>
  Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, w, 0x29, 0x00, 0x00]), Buffer.from('hello')]);

test('a batch that would decompress past the limit is refused, naming the setting: its declared size first, else while streaming', () => {
  const bomb = fixture('bomb-8MiB.zst');
  assert.equal(decompressZstd(bomb).length, 8 * MiB, 'under the default limit it decompresses');
  setMaxBatchBytes(2 * MiB);
  try {
    assert.throws(() => decompressZstd(bomb), {
      message:
        /^a zstd batch has a frame that needs 8388608 bytes \(its window or declared size\), more than 2097152 bytes, the limit \(SIEVE_LOADER_MAX_BATCH_BYTES\)/,
    });
    // declares no size and needs a 4 KiB window: stopped while streaming
    setMaxBatchBytes(200_000);
    assert.throws(() => decompressZstd(fixture('traces.pb.x400.zst')), {
      message: /^a zstd batch would decompress to more than 200000 bytes/,
    });
  } finally {
    setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES);
  }
});

test('a frame whose window is past the limit is refused before the decoder allocates it', () => {
  assert.equal(decompressZstd(helloFrame(0x00)).toString(), 'hello', 'a 1 KiB window decodes');
  assert.equal(zstdLargestFrameMemory(helloFrame(0x00)), 1024);
  // exponent 20: a 1 GiB window, which fzstd would allocate before reading the 5-byte block
  assert.equal(zstdLargestFrameMemory(helloFrame(0xa0)), 1024 ** 3);
  assert.throws(() => decompressZstd(helloFrame(0xa0)), {
    message: /needs 1073741824 bytes.*more than 268435456 bytes/,
  });
  // a skippable frame (other writers' metadata) before it is passed over
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  assert.equal(decompressZstd(Buffer.concat([skippable, helloFrame(0x00)])).toString(), 'hello');
});

test('corrupt, truncated or foreign bytes fail with an error that says so', () => {
  const frame = fixture('traces.pb.x400.zst');
  const corrupt = Buffer.from(frame);
  for (let i = 100; i < 160; i++) corrupt[i] = (corrupt[i] as number) ^ 0x5a;
  const cases = {
    corrupt,
    truncated: frame.subarray(0, frame.length - 100),
    'only the magic number': frame.subarray(0, 4),
    'not zstd': Buffer.from('not a zstd frame at all'),
  };
  for (const [name, bytes] of Object.entries(cases))
    assert.throws(() => decompressZstd(bytes), { message: /^zstd: .*\(a corrupt or truncated batch\)$/ }, name);
});
