/**
 * Reads an HTTP request body: streaming gunzip/inflate with a cap on the decompressed size (a gzip
 * bomb stops at `maxBytes`), a cap on the wire size, and an optional HMAC over the wire bytes.
 */
import { createHmac, type Hmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';

/** A body problem with the HTTP status to answer. */
export class BodyError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

export interface ReadBodyOptions {
  /** Content-Encoding header value */
  encoding: string | undefined;
  /** limit on the decompressed body (413 past it) */
  maxBytes: number;
  /** HMAC-SHA256 secret: when given, the digest of the wire bytes is returned */
  hmacSecret?: Buffer;
}

export interface ReadBody {
  body: Buffer;
  wireBytes: number;
  hmac?: Buffer;
}

function decoderFor(encoding: string | undefined): zlib.Gunzip | zlib.Inflate | null {
  const e = (encoding ?? '').trim().toLowerCase();
  if (e === '' || e === 'identity') return null;
  const opts = { chunkSize: 64 * 1024 };
  if (e === 'gzip' || e === 'x-gzip') return zlib.createGunzip(opts);
  if (e === 'deflate') return zlib.createInflate(opts);
  throw new BodyError(415, `unsupported Content-Encoding: ${e} (use gzip, deflate or none)`);
}

export function readBody(stream: Readable, opts: ReadBodyOptions): Promise<ReadBody> {
  return new Promise<ReadBody>((resolve, reject) => {
    let decoder: zlib.Gunzip | zlib.Inflate | null;
    try {
      decoder = decoderFor(opts.encoding);
    } catch (err) {
      stream.resume();
      reject(err);
      return;
    }
    const hmac: Hmac | null = opts.hmacSecret !== undefined ? createHmac('sha256', opts.hmacSecret) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    let wireBytes = 0;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      stream.removeListener('data', onWire);
      stream.resume(); // drain the rest so the connection can answer
      if (decoder !== null) decoder.destroy();
      chunks.length = 0;
      reject(err);
    };
    const onOut = (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > opts.maxBytes) {
        fail(
          new BodyError(
            413,
            `request body larger than ${opts.maxBytes} bytes${decoder !== null ? ' after decompression' : ''}`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    };
    const finish = () => {
      if (settled) return;
      settled = true;
      resolve({
        body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size),
        wireBytes,
        hmac: hmac?.digest(),
      });
    };
    const onWire = (chunk: Buffer) => {
      if (settled) return;
      wireBytes += chunk.length;
      if (wireBytes > opts.maxBytes) {
        fail(new BodyError(413, `request body larger than ${opts.maxBytes} bytes`));
        return;
      }
      hmac?.update(chunk);
      if (decoder !== null) {
        if (!decoder.write(chunk)) {
          stream.pause();
          decoder.once('drain', () => stream.resume());
        }
      } else onOut(chunk);
    };
    stream.on('data', onWire);
    stream.on('error', (err) => fail(new BodyError(400, `error reading the request body: ${err.message}`)));
    stream.on('aborted', () => fail(new BodyError(400, 'request aborted')));
    if (decoder !== null) {
      const d = decoder;
      d.on('data', onOut);
      d.on('error', (err) => fail(new BodyError(400, `invalid ${opts.encoding} body: ${err.message}`)));
      d.on('end', finish);
      stream.on('end', () => {
        if (!settled) d.end();
      });
    } else {
      stream.on('end', finish);
    }
  });
}
