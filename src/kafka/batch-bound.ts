/**
 * How many bytes one compressed Kafka batch may decompress to, in the loader's consumer.
 *
 * A batch is decompressed into memory whole before its messages are read. A batch that expands far
 * beyond what any producer of Sieve's topics writes (a few MiB) — a decompression bomb on the topic,
 * or a producer gone wrong — would take the loader's memory down with it, and again after every
 * restart. Each codec bounds the output before (Snappy, LZ4: from the batch's own headers) or while
 * (gzip: zlib stops) decompressing, and refuses the batch above the limit. The loader's partition then
 * waits at that batch, as at any batch it cannot read (unreadable-batch.ts): nothing after it is
 * skipped, and the error (logged by the loader: consumer-health.ts) says how to go on.
 */

/** the default limit: far above Sieve's batches (~1–4 MiB), far below a loader's memory */
export const DEFAULT_MAX_BATCH_BYTES = 256 * 1024 * 1024;

let maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;

/** Sets the limit for this process's consumers (`sieve loader`: SIEVE_LOADER_MAX_BATCH_BYTES). */
export function setMaxBatchBytes(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1)
    throw new RangeError(`max batch bytes must be a positive integer, got ${bytes}`);
  maxBatchBytes = bytes;
}

export function getMaxBatchBytes(): number {
  return maxBatchBytes;
}

/**
 * The error for a `codec` batch that would decompress to more than the limit, or (`frameNeeds`) one
 * whose frame asks for more memory than the limit before decompressing.
 */
export function batchTooLarge(codec: string, limit = maxBatchBytes, frameNeeds?: number): Error {
  const what =
    frameNeeds === undefined
      ? 'would decompress to'
      : `has a frame that needs ${frameNeeds} bytes (its window or declared size),`;
  return new Error(
    `a ${codec} batch ${what} more than ${limit} bytes, the limit (SIEVE_LOADER_MAX_BATCH_BYTES): raise it if such batches are expected; the partition waits at this batch until then`,
  );
}

/**
 * Where the skippable frame at `at` ends (LZ4 and zstd share them: magic 0x184D2A50–0x184D2A5F, a
 * 4-byte little-endian size, that many bytes of metadata); undefined when none starts there, -1 when
 * its header is cut off. The codecs' bounds walk past them.
 */
export function skippableFrameEnd(buffer: Buffer, at: number): number | undefined {
  if (at + 4 > buffer.length || (buffer.readUInt32LE(at) & 0xfffffff0) !== 0x184d2a50) return undefined;
  return at + 8 > buffer.length ? -1 : at + 8 + buffer.readUInt32LE(at + 4);
}
