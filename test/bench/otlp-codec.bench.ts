/**
 * OTLP codec throughput: decode, encode and decode+encode of 512-span batches with 20 string/int
 * attributes per span (protobuf from the SDK's own serializer), plus OTLP/JSON decode; then what the
 * receiver does per request to cut a protobuf batch into per-trace Kafka messages (16 traces per
 * batch, as in the receiver benchmark): decoded (pipelines with processors) or forwarded span by span
 * (pipelines without).
 *
 *   node --import tsx test/bench/otlp-codec.bench.ts [seconds-per-case]
 */

import { groupSpansByTraceId } from '../../src/kafka/split.js';
import {
  decodeJson,
  decodeProtobuf,
  encodeJson,
  encodeProtobuf,
  protobufjsReference,
  validateAndPrune,
  validateProtobuf,
} from '../../src/otlp/codec.js';
import { encodeRawTraces, scanTraces } from '../../src/otlp/raw-traces.js';
import { makeSpans, traceJson, traceProtobuf } from '../unit/otlp/fixtures.js';
import { spanBatchTemplate } from './support/otlp-load.js';

const SPANS = 512;
const seconds = Number(process.argv[2] ?? 2);

function bench(name: string, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(seconds * 1e9));
  let now = t0;
  while (now < until) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - t0) / 1e9;
  const spansPerSec = (n * SPANS) / secs;
  console.log(
    `${name.padEnd(30)} ${Math.round(spansPerSec).toLocaleString('en-US').padStart(12)} spans/s  (${((secs / n) * 1e3).toFixed(3)} ms/batch)`,
  );
  return spansPerSec;
}

const spans = await makeSpans(SPANS, 20, { attributeKinds: 'string-int' });
const pb = traceProtobuf(spans);
const json = traceJson(spans);
const decoded = decodeProtobuf('traces', pb);
console.log(`batch: ${SPANS} spans, 20 attributes each; protobuf ${pb.length} bytes, JSON ${json.length} bytes`);
bench('protobuf decode', () => decodeProtobuf('traces', pb));
bench('protobuf encode', () => encodeProtobuf('traces', decoded));
bench('protobuf decode+encode', () => encodeProtobuf('traces', decodeProtobuf('traces', pb)));
bench('json decode', () => decodeJson('traces', json));
bench('json encode', () => encodeJson('traces', decoded));
const ref = protobufjsReference.decode('traces', pb);
bench('protobufjs decode (reference)', () => protobufjsReference.decode('traces', pb));
bench('protobufjs encode (reference)', () => protobufjsReference.encode('traces', ref));

const { bytes: batch } = spanBatchTemplate();
bench('protobuf validate only', () => validateProtobuf('traces', batch));
bench('per-trace messages, decoded', () => {
  const req = decodeProtobuf('traces', batch);
  validateAndPrune('traces', req);
  for (const group of groupSpansByTraceId(req).values()) encodeProtobuf('traces', group);
});
bench('per-trace messages, forwarded', () => {
  for (const group of groupSpansByTraceId(scanTraces(batch).traces).values()) encodeRawTraces(group);
});
