// kafkajs' connection with the response-copy fix: a response that arrives whole is decoded where it
// lies (no copy), and responses split across reads or sharing one read are still assembled exactly.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import '../../../src/kafka/kafkajs-response-copy-fix.js';

const require = createRequire(import.meta.url);
const Connection = require('kafkajs/src/network/connection.js');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const logger = { namespace: () => quiet };

interface Fulfilled {
  correlationId: number;
  payload: Buffer;
}

/** A kafkajs connection (never connected) whose fulfilled responses are collected. */
function connection(): { conn: { processData(b: Buffer): void }; got: Fulfilled[] } {
  const conn = new Connection({ host: '127.0.0.1', port: 1, logger, requestTimeout: 1000 });
  const got: Fulfilled[] = [];
  conn.requestQueue.fulfillRequest = (r: Fulfilled) => got.push(r);
  return { conn, got };
}

/** A Kafka response frame: 4-byte size, 4-byte correlation id, payload. */
function frame(correlationId: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(8 + payload.length);
  f.writeInt32BE(4 + payload.length, 0);
  f.writeInt32BE(correlationId, 4);
  payload.copy(f, 8);
  return f;
}

test('responses that arrive whole, one after another, are decoded without a copy', () => {
  const { conn, got } = connection();
  const frames = [1, 2, 3].map((id) => frame(id, Buffer.alloc(100_000, id)));
  for (const f of frames) conn.processData(f);
  assert.deepEqual(
    got.map((r) => r.correlationId),
    [1, 2, 3],
  );
  for (const [i, r] of got.entries()) {
    assert.ok(r.payload.equals(Buffer.alloc(100_000, i + 1)));
    assert.equal(r.payload.buffer, (frames[i] as Buffer).buffer, `response ${i + 1} is a view of the bytes read`);
  }
});

test('responses split across reads, or several in one read, are assembled exactly', () => {
  const { conn, got } = connection();
  const payloads = [Buffer.from('first'), Buffer.alloc(70_000, 7), Buffer.from('third'), Buffer.from('fourth')];
  const stream = Buffer.concat(payloads.map((p, i) => frame(i + 1, p)));
  // reads cut inside a size, inside a payload, and one read holding the end of one frame and the next two
  for (const [from, to] of [
    [0, 2],
    [2, 20],
    [20, 40_000],
    [40_000, stream.length - 3],
    [stream.length - 3, stream.length],
  ] as const)
    conn.processData(stream.subarray(from, to));
  assert.deepEqual(
    got.map((r) => r.correlationId),
    [1, 2, 3, 4],
  );
  for (const [i, r] of got.entries()) assert.ok(r.payload.equals(payloads[i] as Buffer), `response ${i + 1}`);
});
