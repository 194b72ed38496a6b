/**
 * Kafka message values in the OpenTelemetry Collector's two OTLP encodings:
 * `otlp_proto` (an Export*ServiceRequest in protobuf) and `otlp_json` (the same request as OTLP/JSON,
 * as pdata's JSONMarshaler writes it). `json` is the Collector's older name for `otlp_json`.
 *
 * Detection is exact for OTLP: an OTLP/JSON value is an object, so its first byte is `{` (or JSON
 * whitespace other than a newline, then `{`); an Export*ServiceRequest in protobuf starts with the
 * tag of field 1 (byte 0x0a, which is also "\n") or is empty, and 0x7b (`{`) as a first byte would be
 * field 15 as a deprecated group, which no OTLP message has.
 */
import { decodeJson, encodeProtobuf, OtlpDecodeError } from './codec.js';
import type { Signal } from './model.js';

export type KafkaEncoding = 'otlp_proto' | 'otlp_json';
/** What a reader expects of a topic: one encoding, or either (detected per message). */
export type KafkaEncodingExpectation = KafkaEncoding | 'auto';

/** Encoding names as Collector configs write them → Sieve's. Unknown names → undefined. */
export function kafkaEncodingFromConfig(name: string | undefined): KafkaEncoding | undefined {
  if (name === undefined || name === 'otlp_proto') return 'otlp_proto';
  if (name === 'otlp_json' || name === 'json') return 'otlp_json';
  return undefined;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;

/** The encoding of one message value (see the module comment for why this is unambiguous). */
export function detectKafkaEncoding(value: Uint8Array): KafkaEncoding {
  let i = 0;
  // a UTF-8 byte order mark, then JSON whitespace except "\n" (0x0a is protobuf's field-1 tag)
  if (value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf) i = 3;
  const start = i;
  while (value[i] === SPACE || value[i] === TAB || value[i] === CR || (i > start && value[i] === 0x0a)) i++;
  return value[i] === OPEN_BRACE ? 'otlp_json' : 'otlp_proto';
}

/** OTLP/JSON bytes of an Export*ServiceRequest → its otlp_proto bytes. Throws OtlpDecodeError. */
export function otlpJsonToProto(signal: Signal, json: Uint8Array | string): Uint8Array {
  return encodeProtobuf(signal, decodeJson(signal, json));
}

/** How a reader takes one topic: the signals written to it (several only in otlp_json) and its encoding. */
export interface TopicFormat {
  signals: readonly Signal[];
  encoding: KafkaEncodingExpectation;
}

const SIGNAL_KEYS: [string, Signal][] = [
  ['resourceSpans', 'traces'],
  ['resource_spans', 'traces'],
  ['resourceLogs', 'logs'],
  ['resource_logs', 'logs'],
  ['resourceMetrics', 'metrics'],
  ['resource_metrics', 'metrics'],
];

/** The signal of a parsed OTLP/JSON request (its top-level key); undefined for `{}`. */
export function otlpJsonSignal(obj: unknown): Signal | undefined {
  if (typeof obj !== 'object' || obj === null) return undefined;
  for (const [key, signal] of SIGNAL_KEYS) if (key in obj) return signal;
  return undefined;
}

/**
 * A message value of a topic → its signal and otlp_proto bytes (the loader's entry point: what it
 * decodes into rows). Protobuf values are returned as they are. An OTLP/JSON value names its signal
 * (resourceSpans / resourceLogs / resourceMetrics), which must be one the topic carries.
 * Throws OtlpDecodeError for a value that is neither, or of another signal or encoding.
 */
export function kafkaValueAsProtobuf(format: TopicFormat, value: Uint8Array): { signal: Signal; protobuf: Buffer } {
  const configured = format.signals[0];
  if (configured === undefined) throw new TypeError('a topic format needs at least one signal');
  const found = detectKafkaEncoding(value);
  if (format.encoding !== 'auto' && found !== format.encoding)
    throw new OtlpDecodeError(`message value looks like ${found}, but the topic is read as ${format.encoding}`);
  if (found === 'otlp_proto') return { signal: configured, protobuf: asBuffer(value) };
  let obj: unknown;
  try {
    obj = JSON.parse(asBuffer(value).toString('utf8'));
  } catch (err) {
    throw new OtlpDecodeError(`invalid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const signal = otlpJsonSignal(obj) ?? configured;
  if (!format.signals.includes(signal))
    throw new OtlpDecodeError(`message holds ${signal}, but the topic carries ${format.signals.join(', ')}`);
  return { signal, protobuf: asBuffer(encodeProtobuf(signal, decodeJson(signal, obj as object))) };
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
