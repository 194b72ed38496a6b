/**
 * Message values in the kafka exporter's `encoding`: `otlp_proto` (default) or `otlp_json` (pdata's
 * JSON, as the Collector's kafka exporter writes it; `json` is its older alias, mapped at config load).
 *
 * The exporter merges requests bound for one message. In protobuf, Export*ServiceRequest messages
 * concatenate (repeated field 1). In OTLP/JSON, the values `{"resourceSpans":[A]}` and
 * `{"resourceSpans":[B]}` merge by splicing their arrays: `{"resourceSpans":[A,B]}`. A merged value
 * is never longer than its parts together, so the exporter's size checks hold for both.
 */
import { decodeProtobuf, encodeProtobuf } from '../otlp/codec.js';
import type { KafkaEncoding } from '../otlp/kafka-value.js';
import type { RequestBySignal, Signal } from '../otlp/model.js';
import { encodePdataJson } from '../otlp/pdata-json.js';
import { encodeRawTraces, type RawTraces } from '../otlp/raw-traces.js';

export type { KafkaEncoding } from '../otlp/kafka-value.js';

const ITEMS_KEY: Record<Signal, string> = {
  traces: 'resourceSpans',
  logs: 'resourceLogs',
  metrics: 'resourceMetrics',
};

/** One request's message value in `encoding`. */
export function encodeValue<S extends Signal>(signal: S, request: RequestBySignal[S], encoding: KafkaEncoding): Buffer {
  if (encoding === 'otlp_json') return Buffer.from(encodePdataJson(signal, request), 'utf8');
  const bytes = encodeProtobuf(signal, request);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Traces kept encoded (the receiver's pass-through path) as a message value in `encoding`. */
export function encodeRawTracesValue(traces: RawTraces, encoding: KafkaEncoding): Buffer {
  const proto = encodeRawTraces(traces);
  if (encoding === 'otlp_proto') return proto;
  return Buffer.from(encodePdataJson('traces', decodeProtobuf('traces', proto)), 'utf8');
}

/** Values of one signal and encoding merged into one message value; `bytes` is their total length. */
export function concatValues(signal: Signal, encoding: KafkaEncoding, parts: Buffer[], bytes: number): Buffer {
  if (parts.length === 1) return parts[0] as Buffer;
  if (encoding === 'otlp_proto') return Buffer.concat(parts, bytes);
  const head = `{"${ITEMS_KEY[signal]}":[`;
  const inner: Buffer[] = [Buffer.from(head)];
  for (const p of parts) {
    // an empty request is `{}` (pdata writes no empty array): nothing to splice
    if (p.length <= head.length + 2) continue;
    if (inner.length > 1) inner.push(COMMA);
    inner.push(p.subarray(head.length, p.length - 2));
  }
  inner.push(CLOSE);
  return Buffer.concat(inner);
}

const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');
