/**
 * The span encoder's usual spans in WebAssembly (span-columns/src/lib.rs; `bash span-columns/build.sh`
 * rebuilds span-columns.wasm.ts, a unit test checks it matches the crate). A fresh loader then encodes
 * its first messages' spans with compiled code at once (V8 compiles WebAssembly in milliseconds)
 * instead of interpreting the TypeScript walk while TurboFan compiles it; compiled, the module also
 * takes less CPU per span than the TypeScript walk did.
 *
 * encodeSpans takes a ScopeSpans' spans while they have the usual fields, no events or links, and
 * attributes whose keys are exactly the previous span's key set, each a string, int or bool; it stops
 * at any other span, which the encoder writes itself (traces-rowbinary.ts, spansByColumn). Each column
 * goes to a stream in the module's memory: joinColumns copies the streams after the encoder's own
 * writers' bytes (streamTails), and flushColumns appends them to those writers before the encoder
 * writes a span itself.
 */
import { GENAI_FIRST, KIND_BYTES, STATUS_BYTES, type StreamTails, TRACE_COLUMNS } from '../trace-columns.js';
import { SPAN_COLUMNS_WASM } from './span-columns.wasm.js';

// (Node's types of this version do not declare the WebAssembly global: what is used of it)
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const { Module, Instance } = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  stream_count(): number;
  stream_init(i: number, base: number, cap: number): void;
  stream_len(i: number): number;
  stream_clear(i: number): void;
  constant_init(table: number, i: number, at: number, len: number): void;
  stop_reason(): number;
  stop_at(): number;
  spans(
    msg: number,
    msgLen: number,
    start: number,
    end: number,
    tpl: number,
    tplLen: number,
    repeat: number,
    bounds: number,
    cap: number,
    records: number,
    recordCap: number,
  ): number;
}

/** a span's attribute count in `records` when it has none */
export const NO_ATTRIBUTES = -1;
/** why encodeSpans stopped (stopReason()), at stopAt() */
export const STOP_END = 0;
/** at a span the module does not take (it wrote nothing for it) */
export const STOP_DECLINED = 1;
/** at a span for which a stream, the bounds or the records had no room left (nothing written for it) */
export const STOP_FULL = 2;
/** at a field other than a span, the scope or the schema URL (in one-byte tags) */
export const STOP_FIELD = 3;

/** the columns the encoder writes per scope (the resource's and the scope's): not the module's */
const SCOPE_COLUMNS = new Set([
  'ServiceName',
  'ResourceAttributes',
  'ScopeName',
  'ScopeVersion',
  'TenantId',
  'Environment',
]);
/**
 * The module's streams in its order (lib.rs' S_*): the span's own columns but the GenAI ones, in table
 * order (for SpanAttributes: the Map's values), then 'keys' and 'counts': SpanAttributes' keys and
 * entry counts (see MapStreams).
 */
export const STREAM_COLUMNS: readonly string[] = [
  ...TRACE_COLUMNS.slice(0, GENAI_FIRST)
    .map((c) => c.name)
    .filter((name) => !SCOPE_COLUMNS.has(name)),
  'keys',
  'counts',
];
/** attribute entries of the spans of one encodeSpans (a span with more is declined) */
export const LIST_CAPACITY = 4096;
/** spans one encodeSpans takes at most */
const RECORD_CAPACITY = 1024;
const TEMPLATE_CAPACITY = 64 * 1024;
/** bytes per stream: a message whose columns need more is flushed on the way */
const STREAM_CAPACITY = 256 * 1024;
const PAGE = 64 * 1024;

const wasm = new Instance(new Module(Buffer.from(SPAN_COLUMNS_WASM, 'base64')), {}).exports as Exports;
// the module's memory after its own data: the constants (SpanKind, StatusCode), the spans' records,
// their attributes' bounds, the template, the streams, then the message (grown to fit it)
const constantsAt = (wasm.__heap_base.value + 15) & ~15;
const recordsAt = constantsAt + 1024;
const boundsAt = recordsAt + 16 * RECORD_CAPACITY;
const templateAt = boundsAt + 16 * LIST_CAPACITY;
const streamsAt = templateAt + TEMPLATE_CAPACITY;
const messageAt = streamsAt + STREAM_COLUMNS.length * STREAM_CAPACITY;
let messageLength = 0;
let bytes = new Uint8Array(wasm.memory.buffer);
/**
 * per span encodeSpans took: its attribute count (or NO_ATTRIBUTES), its kind, where its start time is
 * in the message (-1: none), the entry of keyStarts … valueEnds its attributes start at
 */
export let records = new Int32Array(0);
/** the spans' attributes: key starts, key ends, value starts, value ends (offsets in the message) */
export let keyStarts = new Int32Array(0);
export let keyEnds = new Int32Array(0);
export let valueStarts = new Int32Array(0);
export let valueEnds = new Int32Array(0);
/** the template in the module's memory */
let template: Buffer | undefined;
let taken = 0;

/** How many spans the module has taken in this process (for tests: that a case runs through it). */
export const spansTaken = (): number => taken;

function grow(bytesNeeded: number): void {
  const have = wasm.memory.buffer.byteLength;
  if (bytesNeeded > have) wasm.memory.grow(Math.ceil((bytesNeeded - have) / PAGE));
  const m = wasm.memory.buffer;
  bytes = new Uint8Array(m);
  records = new Int32Array(m, recordsAt, 4 * RECORD_CAPACITY);
  keyStarts = new Int32Array(m, boundsAt, LIST_CAPACITY);
  keyEnds = new Int32Array(m, boundsAt + 4 * LIST_CAPACITY, LIST_CAPACITY);
  valueStarts = new Int32Array(m, boundsAt + 8 * LIST_CAPACITY, LIST_CAPACITY);
  valueEnds = new Int32Array(m, boundsAt + 12 * LIST_CAPACITY, LIST_CAPACITY);
}

if (wasm.stream_count() !== STREAM_COLUMNS.length)
  throw new Error(
    `span columns module: ${wasm.stream_count()} streams, ${STREAM_COLUMNS.length} columns known for them`,
  );
grow(messageAt);
for (let i = 0; i < STREAM_COLUMNS.length; i++) wasm.stream_init(i, streamsAt + i * STREAM_CAPACITY, STREAM_CAPACITY);
{
  let at = constantsAt;
  for (const [table, values] of [KIND_BYTES, STATUS_BYTES].entries())
    for (const [i, value] of values.entries()) {
      bytes.set(value, at);
      wasm.constant_init(table, i, at, value.length);
      at += value.length;
    }
}

/** Copies the message in (the spans' offsets are the message's) and empties the streams. */
export function loadMessage(message: Buffer): void {
  grow(messageAt + message.length);
  messageLength = message.length;
  bytes.set(message, messageAt);
  clearColumns();
}

/**
 * The spans of the ScopeSpans in the message's [start, end), from its first field on, while the module
 * takes them: how many it took (see `records`); stopReason() and stopAt() say why and where it stopped.
 * `keys` is the template (the previous span's key set: 1-byte length + bytes per key), `repeat` whether
 * the previous row's keys are those.
 */
export function encodeSpans(start: number, end: number, keys: Buffer | undefined, repeat: boolean): number {
  if (keys !== undefined && keys !== template) {
    if (keys.length > TEMPLATE_CAPACITY) keys = undefined;
    else {
      bytes.set(keys, templateAt);
      template = keys;
    }
  }
  const n = wasm.spans(
    messageAt,
    messageLength,
    start,
    end,
    keys === undefined ? 0 : templateAt,
    keys === undefined ? 0 : keys.length,
    repeat ? 1 : 0,
    boundsAt,
    LIST_CAPACITY,
    recordsAt,
    RECORD_CAPACITY,
  );
  taken += n;
  return n;
}

export const stopReason = (): number => wasm.stop_reason();
export const stopAt = (): number => wasm.stop_at();

/**
 * The streams as the tails of the encoder's layout streams (joinColumns): `layoutStream[i]` is the
 * layout stream STREAM_COLUMNS[i] belongs to. Joining copies them; `clearColumns` empties them after.
 */
export function streamTails(layoutStream: readonly number[]): StreamTails {
  const streamOf = new Int32Array(Math.max(...layoutStream) + 1).fill(-1);
  for (const [i, l] of layoutStream.entries()) streamOf[l] = i;
  return {
    length: (l) => {
      const i = l < streamOf.length ? (streamOf[l] as number) : -1;
      return i < 0 ? 0 : wasm.stream_len(i);
    },
    copy: (l, out, at) => {
      const i = streamOf[l] as number;
      const from = streamsAt + i * STREAM_CAPACITY;
      out.set(bytes.subarray(from, from + wasm.stream_len(i)), at);
    },
  };
}

/** Empties the streams. */
export function clearColumns(): void {
  for (let i = 0; i < STREAM_COLUMNS.length; i++) wasm.stream_clear(i);
}

/** Where a stream's bytes go (the encoder's RowBinaryWriter). */
export interface ColumnWriter {
  raw(src: Uint8Array, start: number, end: number): void;
}

/** Appends each stream to its writer (`writers[i]` for STREAM_COLUMNS[i]) and empties it. */
export function flushColumns(writers: readonly ColumnWriter[]): void {
  for (let i = 0; i < writers.length; i++) {
    const n = wasm.stream_len(i);
    if (n === 0) continue;
    const at = streamsAt + i * STREAM_CAPACITY;
    writers[i]!.raw(bytes, at, at + n);
    wasm.stream_clear(i);
  }
}
