// The loader's Kafka sockets hand kafkajs whole size-prefixed responses, read straight into their own
// buffers, however the bytes arrive: one byte at a time, many frames in one read, a frame split
// anywhere, frames of every size around the scratch buffer's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { framedSocketFactory, ResponseFramer } from '../../../src/kafka/framed-socket.js';

const frameOf = (payload: Buffer) => {
  const f = Buffer.allocUnsafe(4 + payload.length);
  f.writeInt32BE(payload.length, 0);
  payload.copy(f, 4);
  return f;
};

/** Feeds `stream` to a framer in reads of the given sizes, as a socket would; returns the frames emitted. */
function feed(stream: Buffer, readSizes: number[]): Buffer[] {
  const frames: Buffer[] = [];
  const framer = new ResponseFramer((f) => frames.push(f));
  let at = 0;
  let i = 0;
  while (at < stream.length) {
    const target = framer.target();
    assert.ok(target.length > 0, 'a read always has room');
    const n = Math.min(target.length, stream.length - at, readSizes[i++ % readSizes.length] ?? 1);
    stream.copy(target, 0, at, at + n);
    at += n;
    framer.filled(n);
  }
  return frames;
}

describe('ResponseFramer', () => {
  test('emits each frame whole, for any frames and any way the bytes are read', () => {
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 32 * 1024 - 8, max: 32 * 1024 + 8 }), // around the large-frame threshold
      fc.integer({ min: 64 * 1024 - 8, max: 200 * 1024 }),
    );
    fc.assert(
      fc.property(
        fc.array(sizes, { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
        (payloadSizes, readSizes) => {
          const frames = payloadSizes.map((n) => frameOf(randomBytes(n)));
          const got = feed(Buffer.concat(frames), readSizes);
          assert.equal(got.length, frames.length);
          for (const [i, f] of frames.entries()) assert.ok(got[i]!.equals(f), `frame ${i}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a large frame is read into its own buffer, not copied out of a shared one', () => {
    const big = frameOf(randomBytes(1 << 20));
    const [got] = feed(big, [65_536]);
    assert.ok(got!.equals(big));
    assert.equal(got!.byteOffset, 0);
    assert.equal(got!.buffer.byteLength >= big.length, true);
  });

  test('bytes that are not a Kafka frame are handed over as they are', () => {
    const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    assert.deepEqual(Buffer.concat(feed(junk, [7])), junk);
  });
});

describe('framedSocketFactory', () => {
  test('a real socket emits whole frames as data, written in pieces by the peer', async () => {
    const frames = [frameOf(Buffer.from('small')), frameOf(randomBytes(300_000)), frameOf(Buffer.alloc(0))];
    const stream = Buffer.concat(frames);
    const server = net.createServer(async (sock) => {
      // in uneven pieces, with pauses, so that reads split frames anywhere
      for (let at = 0; at < stream.length; ) {
        const n = Math.min(stream.length - at, 1 + ((at * 7919) % 90_000));
        sock.write(stream.subarray(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, 2));
      }
      sock.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    const got: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const socket = framedSocketFactory()({ host: '127.0.0.1', port, ssl: false as never, onConnect: () => {} });
      socket.on('data', (d: Buffer) => got.push(d));
      socket.on('end', () => resolve());
      socket.on('error', reject);
    });
    server.close();
    assert.equal(got.length, frames.length);
    for (const [i, f] of frames.entries()) assert.ok(got[i]!.equals(f), `frame ${i}`);
  });
});
