// The Kafka gzip codec's decompression: one buffer of the trailer's size, the same bytes kafkajs'
// own unzip gives, for any size, for several gzip members and for zlib-format data; corrupt input fails.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { decompressGzip } from '../../../src/kafka/gzip-codec.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

test('gzip and zlib data of any size decompress to the original bytes, gzip into a buffer of its size', () => {
  for (const n of [0, 1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 64, 425_926, 3_000_000]) {
    // half random (incompressible), half repeated
    const original = Buffer.concat([randomBytes(n >> 1), Buffer.alloc(n - (n >> 1), 'ab')]);
    const out = decompressGzip(zlib.gzipSync(original, { level: 1 }));
    assert.ok(out.equals(original), `gzip, ${n} bytes`);
    if (n > 16 * 1024) assert.ok(out.buffer.byteLength <= n + 64, `${n} bytes: one sized buffer, not chunks joined`);
    assert.ok(decompressGzip(zlib.deflateSync(original)).equals(original), `zlib format, ${n} bytes`);
  }
  const a = randomBytes(50_000);
  const b = Buffer.alloc(70_000, 'x');
  assert.ok(decompressGzip(Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])).equals(Buffer.concat([a, b])));
});

test('corrupt data and a trailer that lies about the size are errors, as zlib reports them', () => {
  const gz = zlib.gzipSync(Buffer.alloc(100_000, 'y'));
  const lying = Buffer.from(gz);
  lying.writeUInt32LE(10, lying.length - 4);
  assert.throws(() => decompressGzip(lying), /length|check/i);
  const huge = Buffer.from(gz);
  huge.writeUInt32LE(0xffffffff, huge.length - 4); // not believed past 64 MiB, and still refused
  assert.throws(() => decompressGzip(huge), /length|check/i);
  assert.throws(() => decompressGzip(Buffer.from('not gzip at all')), /header|check|incorrect/i);
});

test("kafkajs' gzip codec is this one: its decompress resolves to the bytes", async () => {
  const original = randomBytes(200_000);
  const codec = CompressionCodecs[CompressionTypes.GZIP]();
  assert.ok(((await codec.decompress(zlib.gzipSync(original))) as Buffer).equals(original));
  await assert.rejects(codec.decompress(Buffer.from('nope')));
});
