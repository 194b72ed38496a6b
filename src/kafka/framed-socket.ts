/**
 * A kafkajs socket factory that reads each Kafka response straight into one buffer of its size.
 *
 * kafkajs' own sockets hand it the 64 KiB chunks Node allocates for every read, and it concatenates
 * them into the response once the last one arrives: a loader fetching 16 MiB responses allocates and
 * copies every byte twice. Kafka frames each response with a 4-byte big-endian size, so once the size
 * is read the rest of the response can be read into its final buffer (Node's `onread` option lets a
 * socket read into a buffer of our choosing). kafkajs then gets each response as one chunk, which it
 * takes as it is, and slices message values out of it without a copy.
 *
 * Small responses (heartbeats, offsets, metadata) are read into one reused buffer and copied out.
 * TLS sockets are made as kafkajs makes them (`onread` is for plain TCP sockets).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import './kafkajs-response-copy-fix.js';

const KEEP_ALIVE_DELAY_MS = 60_000; // as kafkajs' default factory
const SCRATCH_BYTES = 64 * 1024;
/** frames up to this size are assembled in the scratch buffer; larger ones get a buffer of their own */
const SMALL_FRAME_BYTES = SCRATCH_BYTES / 2;

/** Splits a byte stream of size-prefixed frames into whole frames (each with its 4-byte size). */
export class ResponseFramer {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** bytes at the start of scratch not yet part of an emitted frame */
  private scratchLength = 0;
  /** the large frame being read straight into */
  private frame: Buffer | undefined;
  private frameFilled = 0;

  constructor(private readonly emit: (frame: Buffer) => void) {}

  /** Where the next read writes (never empty). */
  target(): Buffer {
    return this.frame ? this.frame.subarray(this.frameFilled) : this.scratch.subarray(this.scratchLength);
  }

  /** `n` bytes were written at target(). */
  filled(n: number): void {
    if (this.frame) {
      this.frameFilled += n;
      if (this.frameFilled === this.frame.length) {
        const done = this.frame;
        this.frame = undefined;
        this.emit(done);
      }
      return;
    }
    this.scratchLength += n;
    let at = 0;
    while (this.scratchLength - at >= 4) {
      const size = this.scratch.readInt32BE(at);
      if (size < 0) {
        // not a Kafka response: the bytes go to kafkajs as they are, and it reports the error
        this.emit(Buffer.from(this.scratch.subarray(at, this.scratchLength)));
        at = this.scratchLength;
        break;
      }
      const total = 4 + size;
      if (this.scratchLength - at >= total) {
        this.emit(Buffer.from(this.scratch.subarray(at, at + total))); // a copy: scratch is reused
        at += total;
        continue;
      }
      if (total > SMALL_FRAME_BYTES) {
        // the rest of a large response is read straight into a buffer of its own
        const frame = Buffer.allocUnsafe(total);
        this.scratch.copy(frame, 0, at, this.scratchLength);
        this.frame = frame;
        this.frameFilled = this.scratchLength - at;
        at = this.scratchLength;
      }
      break;
    }
    // what is left (the start of a small frame) moves to the front, where the whole frame fits
    if (at > 0) {
      this.scratch.copy(this.scratch, 0, at, this.scratchLength);
      this.scratchLength -= at;
    }
  }
}

/** kafkajs' default socket factory, except that plain TCP sockets read whole responses (ResponseFramer). */
export function framedSocketFactory(): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    if (ssl) {
      const socket = tls.connect(
        Object.assign({ host, port }, !net.isIP(host) ? { servername: host } : {}, ssl),
        onConnect,
      );
      socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
      return socket;
    }
    const framer = new ResponseFramer((frame) => socket.emit('data', frame));
    const socket = net.connect(
      {
        host,
        port,
        onread: {
          buffer: () => framer.target(),
          callback: (n: number) => {
            framer.filled(n);
            return true;
          },
        },
      },
      onConnect,
    );
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
    return socket;
  };
}
