/**
 * Kafka compression on the messages Sieve writes: 512-span requests (the receiver benchmark's template)
 * after the default PII pipeline (hashed values compress worse than the template), encoded as the
 * exporter encodes them. Prints, per 1,000 spans, the CPU of
 * - deflate at zlib's default level (kafkajs' own codec) and at level 1, with the compression ratio,
 *   and of inflate as kafkajs does it (promisified unzip on the thread pool) and as the loader does
 *   (src/kafka/gzip-codec.ts: synchronous, into one buffer of the trailer's size);
 * - LZ4 (the presets' codec) and Snappy, compressing and decompressing through Sieve's codecs as
 *   kafkajs calls them (src/kafka/lz4-codec.ts, src/kafka/snappy-codec.ts), with the ratio;
 * - zstd decompression as the loader does it (src/kafka/zstd-codec.ts) of the messages compressed
 *   by the `zstd` command at level 3 (Kafka's default), streamed as Kafka's Java producer writes
 *   them; skipped when there is no `zstd` command.
 * process.cpuUsage counts the thread pool's CPU too.
 *
 *   node --import tsx test/bench/kafka-codecs.bench.ts      (or: npm run bench -- kafka-codecs)
 */
import { spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { loadSieveConfig } from '../../src/config/load.js';
import '../../src/kafka/compression.js';
import { decompressGzip } from '../../src/kafka/gzip-codec.js';
import { decompressZstd } from '../../src/kafka/zstd-codec.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import { SPANS_PER_REQUEST, spanBatchTemplate } from './support/otlp-load.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const config = loadSieveConfig('collector-config/sieve.yaml', {
  env: { ...process.env, SIEVE_HASH_KEY: process.env.SIEVE_HASH_KEY ?? 'bench-key' },
});
const traces = config.pipelines.traces;
if (!traces) throw new Error('collector-config/sieve.yaml has no traces pipeline');
const template = spanBatchTemplate();
// eight requests whose trace ids differ, as the load generator sends them
const messages = Array.from({ length: 8 }, (_, r) => {
  const body = Buffer.from(template.bytes);
  for (const at of template.traceIdOffsets) body.writeUInt32BE(r * 7919 + 1, at);
  return Buffer.from(encodeProtobuf('traces', traces.process(decodeProtobuf('traces', body)).request));
});
const spans = messages.length * SPANS_PER_REQUEST;
const rawBytes = messages.reduce((n, m) => n + m.length, 0);

async function cpuMsPer1kSpans(repeat: number, run: () => Promise<void> | void): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < repeat; i++) await run();
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / 1000 / ((repeat * spans) / 1000);
}

const { CompressionCodecs, CompressionTypes } = kafkajs;
const codecs = [
  ['lz4', CompressionCodecs[CompressionTypes.LZ4]()],
  ['snappy', CompressionCodecs[CompressionTypes.Snappy]()],
] as const;
const gzipAsync = promisify(zlib.gzip);
const unzipAsync = promisify(zlib.unzip);
for (let round = 1; round <= ROUNDS; round++) {
  const out: string[] = [];
  for (const level of [6, 1]) {
    let compressed = 0;
    const ms = await cpuMsPer1kSpans(5, async () => {
      compressed = 0;
      for (const m of messages) compressed += (await gzipAsync(m, { level })).length;
    });
    out.push(`deflate level ${level}: ${ms.toFixed(2)} ms (ratio ${(rawBytes / compressed).toFixed(2)})`);
  }
  const gzipped = messages.map((m) => zlib.gzipSync(m, { level: 1 }));
  const kafkajsUnzip = await cpuMsPer1kSpans(10, async () => {
    for (const g of gzipped) await unzipAsync(g);
  });
  const loader = await cpuMsPer1kSpans(10, () => {
    for (const g of gzipped) decompressGzip(g);
  });
  out.push(`inflate: kafkajs' unzip ${kafkajsUnzip.toFixed(2)} ms, loader's ${loader.toFixed(2)} ms`);
  for (const [name, codec] of codecs) {
    let compressedBytes = 0;
    const compress = await cpuMsPer1kSpans(20, async () => {
      compressedBytes = 0;
      for (const m of messages) compressedBytes += ((await codec.compress({ buffer: m })) as Buffer).length;
    });
    const packed = await Promise.all(messages.map((m) => codec.compress({ buffer: m }) as Promise<Buffer>));
    const decompress = await cpuMsPer1kSpans(20, async () => {
      for (const p of packed) await codec.decompress(p);
    });
    out.push(
      `${name}: compress ${compress.toFixed(2)} ms (ratio ${(rawBytes / compressedBytes).toFixed(2)}), decompress ${decompress.toFixed(2)} ms`,
    );
  }
  // Sieve writes no zstd: the zstd command compresses, Sieve's codec decompresses
  const zstdPacked = messages.map((m) => spawnSync('zstd', ['-3', '--no-content-size', '-c'], { input: m }));
  if (zstdPacked.every((r) => r.status === 0)) {
    const packed = zstdPacked.map((r) => r.stdout);
    const decompress = await cpuMsPer1kSpans(20, () => {
      for (const p of packed) decompressZstd(p);
    });
    const ratio = rawBytes / packed.reduce((n, p) => n + p.length, 0);
    out.push(`zstd (level 3, the zstd command): ratio ${ratio.toFixed(2)}, decompress ${decompress.toFixed(2)} ms`);
  } else out.push('zstd: skipped (no zstd command)');
  console.log(
    `kafka-codecs round ${round}, CPU per 1,000 spans (${Math.round(rawBytes / spans)} bytes/span): ${out.join('; ')}`,
  );
}
