// The loader's consumer reads zstd batches (a Collector's or another client's `compression: zstd`):
// frames with and without a declared size, several frames in one batch, and blocks past the first;
// a batch that would decompress past the batch limit is refused at the limit whatever the frame
// declares; corrupt, truncated or foreign bytes fail with an error (never a hang). Sieve writes no zstd.
// Fixtures made with the zstd CLI (v1.5.4) from src/otlp/testdata/traces.pb (1,245 bytes):
//   traces.pb.zst        zstd -3 --no-content-size   (a streamed frame, as Kafka's Java producer writes)
//   traces.pb.sized.zst  zstd -19                    (a frame that declares its size)
//   traces.pb.twice.zst  the two above, concatenated
//   traces.pb.x400.zst   400 copies (498 KB), zstd -3 --no-content-size: four blocks of up to 128 KiB
//   bomb-8MiB.zst        8 MiB of "a", zstd -19 (274 bytes)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import kafkajs from 'kafkajs';
import { DEFAULT_MAX_BATCH_BYTES, setMaxBatchBytes } from '../../../src/kafka/batch-bound.js';
import '../../../src/kafka/compression.js';
import { decompressZstd, ZSTD_NOT_WRITTEN } from '../../../src/kafka/zstd-codec.js';

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

test('a batch that would decompress past the limit is refused at the limit, naming the setting', () => {
  const bomb = fixture('bomb-8MiB.zst');
  assert.equal(decompressZstd(bomb).length, 8 * MiB, 'under the default limit it decompresses');
  setMaxBatchBytes(2 * MiB);
  try {
    assert.throws(() => decompressZstd(bomb), {
      message: /^a zstd batch would decompress to more than 2097152 bytes.*SIEVE_LOADER_MAX_BATCH_BYTES/,
    });
    // a multi-block batch that declares no size: stopped while streaming
    setMaxBatchBytes(200_000);
    assert.throws(() => decompressZstd(fixture('traces.pb.x400.zst')), { message: /more than 200000 bytes/ });
  } finally {
    setMaxBatchBytes(DEFAULT_MAX_BATCH_BYTES);
  }
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
