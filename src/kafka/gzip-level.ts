/** gzip levels as the Collector's `producer.compression_params.level` takes them (Go's compress/flate). */
import zlib from 'node:zlib';

/** The Collector's (Go compress/flate) level for Huffman-only coding. */
export const GZIP_HUFFMAN_ONLY = -2;

/** Whether the Collector accepts `level` for gzip. */
export function isGzipLevel(level: number): boolean {
  return Number.isInteger(level) && level >= GZIP_HUFFMAN_ONLY && level <= 9;
}

/** zlib options for a Collector gzip level (0 and -1: zlib's default). */
export function gzipOptions(level: number): zlib.ZlibOptions {
  if (level === GZIP_HUFFMAN_ONLY) return { strategy: zlib.constants.Z_HUFFMAN_ONLY };
  if (level <= 0) return {};
  return { level };
}
