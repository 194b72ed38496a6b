/**
 * kafkajs 2.2.4 (its last release) copies every response it receives once more than it needs to.
 * After each response a connection keeps what followed it as `chunks = [remainder]`, which is an
 * empty buffer when a read ended on a response boundary, and the next read is pushed after it: two
 * chunks, so `Buffer.concat` copies the whole next response even when it arrived as one buffer. The
 * loader's sockets (framed-socket.ts) hand kafkajs each fetch response whole, up to 16 MiB: that copy
 * was ~115 MB per 200k spans, and the garbage collections it started. This drops the empty remainder
 * before a read is buffered, so a response that arrives whole is decoded where it lies.
 *
 * Imported for its effect by framed-socket.ts.
 */
import { createRequire } from 'node:module';

interface ConnectionLike {
  chunks: Buffer[];
  bytesBuffered: number;
  processData(rawData: Buffer): unknown;
}

const require = createRequire(import.meta.url);
const Connection = require('kafkajs/src/network/connection.js') as {
  prototype: ConnectionLike & { [PATCHED]?: true };
};
const PATCHED = Symbol.for('sieve.kafkajs.response-copy-fix');

if (!Connection.prototype[PATCHED]) {
  const processData = Connection.prototype.processData;
  Connection.prototype.processData = function (this: ConnectionLike, rawData: Buffer) {
    const c = this.chunks;
    if (this.bytesBuffered === 0 && c !== undefined && c.length === 1 && (c[0] as Buffer).length === 0)
      this.chunks = [];
    return processData.call(this, rawData);
  };
  Connection.prototype[PATCHED] = true;
}
