/**
 * What the span encoder (traces-rowbinary.ts) writes, apart from how it walks the message: the
 * otel_traces columns in its order, constant column values (span kinds, status codes, a plain span's
 * GenAI columns), and layout 'columns' (each column's values in a stream of its own, a Map column's
 * keys and counts apart, joined into one buffer per message for native-block.ts).
 */
import { PLAIN_SPAN } from './genai.js';
import { GENAI_COLUMNS } from './genai-columns.js';
import {
  type Column,
  compileColumnsWriter,
  compileObjectWriter,
  RowBinaryWriter,
  rowsBuffer,
  viewOf,
} from './row-binary.js';
import { SPAN_KIND, STATUS_CODE } from './traces-rows.js';

/** otel_traces columns in the order the encoder writes them (checked against the table at start). */
export const TRACE_COLUMNS: readonly Column[] = [
  { name: 'Timestamp', type: 'DateTime64(9)' },
  { name: 'TraceId', type: 'String' },
  { name: 'SpanId', type: 'String' },
  { name: 'ParentSpanId', type: 'String' },
  { name: 'TraceState', type: 'String' },
  { name: 'SpanName', type: 'LowCardinality(String)' },
  { name: 'SpanKind', type: 'LowCardinality(String)' },
  { name: 'ServiceName', type: 'LowCardinality(String)' },
  { name: 'ResourceAttributes', type: 'Map(LowCardinality(String), String)' },
  { name: 'ScopeName', type: 'String' },
  { name: 'ScopeVersion', type: 'String' },
  { name: 'SpanAttributes', type: 'Map(LowCardinality(String), String)' },
  { name: 'Duration', type: 'UInt64' },
  { name: 'StatusCode', type: 'LowCardinality(String)' },
  { name: 'StatusMessage', type: 'String' },
  { name: 'Events.Timestamp', type: 'Array(DateTime64(9))' },
  { name: 'Events.Name', type: 'Array(LowCardinality(String))' },
  { name: 'Events.Attributes', type: 'Array(Map(LowCardinality(String), String))' },
  { name: 'Links.TraceId', type: 'Array(String)' },
  { name: 'Links.SpanId', type: 'Array(String)' },
  { name: 'Links.TraceState', type: 'Array(String)' },
  { name: 'Links.Attributes', type: 'Array(Map(LowCardinality(String), String))' },
  { name: 'TenantId', type: 'LowCardinality(String)' },
  { name: 'Environment', type: 'LowCardinality(String)' },
  ...GENAI_COLUMNS,
];

/** TRACE_COLUMNS' positions, as span() writes them (checked at load) */
const SPAN_COLUMN_ORDER = [
  'Timestamp',
  'TraceId',
  'SpanId',
  'ParentSpanId',
  'TraceState',
  'SpanName',
  'SpanKind',
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'SpanAttributes',
  'Duration',
  'StatusCode',
  'StatusMessage',
  'Events.Timestamp',
  'Events.Name',
  'Events.Attributes',
  'Links.TraceId',
  'Links.SpanId',
  'Links.TraceState',
  'Links.Attributes',
  'TenantId',
  'Environment',
];
export const GENAI_FIRST = SPAN_COLUMN_ORDER.length;
if (TRACE_COLUMNS.some((c, i) => c.name !== (SPAN_COLUMN_ORDER[i] ?? GENAI_COLUMNS[i - GENAI_FIRST]?.name)))
  throw new Error('TRACE_COLUMNS and the order span() writes them in differ');

export const writeGenAi = compileObjectWriter(GENAI_COLUMNS);
/** layout 'columns': the GenAI columns, each to its writer (writers[at + i]), and each column's value for a plain span */
export const writeGenAiColumns = compileColumnsWriter(GENAI_COLUMNS);
export const PLAIN_GENAI_COLUMN = (() => {
  const writers = GENAI_COLUMNS.map(() => new RowBinaryWriter(64));
  writeGenAiColumns(writers, 0, PLAIN_SPAN);
  return writers.map((x) => x.take());
})();
// a plain span's GenAI values are all zero bytes ('', 0): a run of plain spans is a fill per column
if (PLAIN_GENAI_COLUMN.some((v) => v.some((byte) => byte !== 0))) throw new Error('plain GenAI values: not zeros');
/** the GenAI columns of a plain span, encoded once */
export const PLAIN_GENAI = (() => {
  const x = new RowBinaryWriter(256);
  writeGenAi(x, PLAIN_SPAN);
  return viewOf(x.take());
})();

const encodedStrings = (names: readonly string[]): Buffer[] =>
  names.map((s) => {
    const x = new RowBinaryWriter(64);
    x.string(s);
    return x.take();
  });
export const KIND_BYTES = encodedStrings(SPAN_KIND);
export const STATUS_BYTES = encodedStrings(STATUS_CODE);

export interface EncodedRows {
  /** the rows, back to back */
  data: Buffer;
  rows: number;
}

/**
 * A Map column's keys (RowBinary Strings) and per row its entry count × 2 + 1 when the row's keys are
 * the previous row's of the message (then not written again), or + 0 (LEB128), in layout 'columns'.
 */
export interface MapStreams {
  keys: RowBinaryWriter;
  counts: RowBinaryWriter;
  /** what the previous row of this message has exactly as its keys (a KeySet or a resource), if known */
  sameAs: object | undefined;
}
export const newMapStreams = (): MapStreams => ({
  keys: new RowBinaryWriter(1 << 16),
  counts: new RowBinaryWriter(4096),
  sameAs: undefined,
});
/** More bytes of some streams, held elsewhere (the span encoder's WebAssembly module): after the writers'. */
export interface StreamTails {
  /** bytes that follow stream i's writer */
  length(i: number): number;
  /** copies them to out[at, at + length(i)) */
  copy(i: number, out: Uint8Array, at: number): void;
}
const NO_TAILS: StreamTails = { length: () => 0, copy: () => undefined };

/**
 * Layout 'columns': a UInt32 (LE) count of streams, the UInt32 end of each stream (from the end of this
 * header), then the streams back to back: each column's values as RowBinary writes them (a Map
 * column's: its values only), then per Map column (in column order) its keys and its entry counts.
 * Stream i is writers[i]'s bytes, then tails' (copied here once, not first appended to the writer).
 */
export function joinColumns(writers: readonly RowBinaryWriter[], tails = NO_TAILS): Buffer {
  const header = 4 + 4 * writers.length;
  let size = header;
  for (let i = 0; i < writers.length; i++) size += writers[i]!.pos + tails.length(i);
  const out = rowsBuffer(size).subarray(0, size); // pooled like detached rows (releaseRows)
  out.writeUInt32LE(writers.length, 0);
  let at = header;
  for (let i = 0; i < writers.length; i++) {
    const c = writers[i]!;
    c.buf.copy(out, at, 0, c.pos);
    at += c.pos;
    const tail = tails.length(i);
    if (tail > 0) {
      tails.copy(i, out, at);
      at += tail;
    }
    out.writeUInt32LE(at - header, 4 + 4 * i);
  }
  return out;
}
