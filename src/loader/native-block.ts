/**
 * One ClickHouse Native block per insert, from the span encoder's column layout (traceRowBinary with
 * layout 'columns': each column's values as RowBinary writes them, a Map column's keys, values and
 * entry counts as three streams).
 *
 * Why: ClickHouse parses RowBinary a value at a time, and a LowCardinality value (every attribute
 * key of the Map(LowCardinality(String), String) columns, ServiceName, SpanName…) costs a lookup in
 * the column's dictionary per row. In Native a LowCardinality column arrives as its dictionary and
 * one small index per row. Measured on chDB 26.9 with the loader's 8,192-row batches: parsing 85 →
 * 8 CPU ms per batch; in the loader benchmark the engine's CPU per span about halves.
 * Fixed-width and String columns are the same bytes in both formats: they are checked and passed on
 * (large runs as views of the chunks); LowCardinality, Map and Array columns are re-read here.
 *
 * Format (https://clickhouse.com/docs/interfaces/formats/Native, as clickhouse-server writes it over
 * HTTP): LEB128 column count and row count; per column its name and type (Strings), then its values:
 *   fixed-width  the values back to back, little-endian
 *   String       LEB128 length + bytes, per row (as in RowBinary)
 *   Array(T)     UInt64 end offset per row, then the elements' column of T
 *   Map(K, V)    as Array(Tuple(K, V)): offsets, then the keys' column, then the values' column
 *   LowCardinality(String)  a UInt64 serialization version (1) before the column's data (before
 *                the offsets of an enclosing Array or Map), then: UInt64 flags (index width code |
 *                HasAdditionalKeys | NeedUpdateDictionary), UInt64 key count, the keys as Strings,
 *                UInt64 value count, and the values as indexes into the keys (UInt8/16/32).
 */
import { type Column, copyBytes, RowBinaryWriter, sameBytes, viewOf } from './row-binary.js';

/** a column's values from a chunk go into the block as a view from this size on (fewer, larger pieces to send) */
const VIEW_BYTES = 32 * 1024;
const HAS_ADDITIONAL_KEYS = 1 << 9;
const NEED_UPDATE_DICTIONARY = 1 << 10;
/** LowCardinality serialization version: SharedDictionariesWithAdditionalKeys */
const LOW_CARDINALITY_VERSION = 1;

/** The input's bytes [start, end) appended to `out`, a word at a time. */
function copyInput(out: RowBinaryWriter, start: number, end: number): void {
  const n = end - start;
  out.ensure(n + 3); // copyBytes may write 3 bytes past the end
  copyBytes(srcView, srcLength, start, end, out.view, out.pos);
  out.pos += n;
}

const newBuffer = () => new RowBinaryWriter(1 << 16);

// ---- the RowBinary input: the chunk being read and the position in it ----
const NO_BYTES = Buffer.alloc(0);
let src: Buffer = NO_BYTES;
let srcView = viewOf(NO_BYTES);
let srcLength = 0;
let p = 0;

function setInput(chunk: Buffer): void {
  src = chunk;
  srcView = viewOf(chunk);
  srcLength = chunk.length;
  p = 0;
}

function readLength(): number {
  let x = src[p++] as number;
  if (x < 0x80) return x;
  let v = x & 0x7f;
  let mul = 128;
  for (;;) {
    if (p >= src.length) throw new RangeError('RowBinary: truncated length');
    x = src[p++] as number;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
}

/** Past the String at p; returns where its bytes start (its end is p). */
function skipString(): number {
  const n = readLength();
  const s = p;
  p += n;
  if (p > src.length) throw new RangeError('RowBinary: truncated string');
  return s;
}

/** The distinct values of a LowCardinality(String) column in the block, and each value's index. */
class Dictionary {
  /** the keys, serialized as Strings */
  readonly keys = newBuffer();
  size = 0;
  private keyStart = new Int32Array(64);
  private keyEnd = new Int32Array(64);
  /** open addressing: key number + 1, 0 = empty */
  private slots = new Int32Array(256);
  indexes = new Int32Array(1024);
  count = 0;

  reset(): void {
    this.keys.pos = 0;
    if (this.size > 0) this.slots.fill(0);
    this.size = 0;
    this.count = 0;
  }

  /** Room for `n` more indexes. */
  reserve(n: number): void {
    while (this.count + n > this.indexes.length) this.indexes = grown(this.indexes);
  }

  push(index: number): void {
    if (this.count === this.indexes.length) this.indexes = grown(this.indexes);
    this.indexes[this.count++] = index;
  }

  /** Appends indexes[0, n) (a loop: a row has a few dozen keys, and subarray + set allocate a view per row). */
  pushAll(indexes: Int32Array, n: number): void {
    while (this.count + n > this.indexes.length) this.indexes = grown(this.indexes);
    const to = this.indexes;
    let c = this.count;
    for (let i = 0; i < n; i++) to[c++] = indexes[i] as number;
    this.count = c;
  }

  /** The index of the value src[s, e) (added when new). */
  indexOf(s: number, e: number): number {
    const h = hashOf(src, s, e);
    const mask = this.slots.length - 1;
    let slot = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const k = this.slots[slot]! - 1;
      if (k < 0) break;
      if (this.is(k, s, e)) return k;
      slot = (slot + 1) & mask;
    }
    const k = this.size++;
    if (k === this.keyStart.length) {
      this.keyStart = grown(this.keyStart);
      this.keyEnd = grown(this.keyEnd);
    }
    this.keys.varint(e - s);
    this.keyStart[k] = this.keys.pos;
    copyInput(this.keys, s, e);
    this.keyEnd[k] = this.keys.pos;
    this.slots[slot] = k + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return k;
  }

  /** Whether src[s, e) is key k's bytes. */
  is(k: number, s: number, e: number): boolean {
    const ks = this.keyStart[k]!;
    if (this.keyEnd[k]! - ks !== e - s) return false;
    return sameBytes(this.keys.view, this.keys.buf.length, ks, srcView, srcLength, s, e);
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    const kb = this.keys.buf;
    for (let k = 0; k < this.size; k++) {
      const h = hashOf(kb, this.keyStart[k]!, this.keyEnd[k]!);
      let slot = (h ^ (h >>> 15)) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = k + 1;
    }
  }

  /** The column's data after its version: flags, keys, then the indexes in the narrowest width. */
  write(out: RowBinaryWriter): void {
    if (this.count === 0) return;
    const width = this.size <= 0x100 ? 0 : this.size <= 0x10000 ? 1 : 2;
    out.uint64(width | HAS_ADDITIONAL_KEYS | NEED_UPDATE_DICTIONARY);
    out.uint64(this.size);
    out.raw(this.keys.buf, 0, this.keys.pos);
    out.uint64(this.count);
    const bytes = 1 << width;
    out.ensure(this.count * bytes);
    const b = out.buf;
    let q = out.pos;
    const idx = this.indexes;
    if (width === 0) {
      // every index is below 256: the typed-array copy's conversion (mod 256) keeps each one as it is
      b.set(idx.subarray(0, this.count), q);
      q += this.count;
    } else if (width === 1)
      for (let i = 0; i < this.count; i++, q += 2) {
        b[q] = idx[i] as number;
        b[q + 1] = (idx[i] as number) >>> 8;
      }
    else for (let i = 0; i < this.count; i++, q += 4) b.writeUInt32LE(idx[i] as number, q);
    out.pos = q;
  }
}

/** FNV-1a-style hash of bytes[s, e) */
function hashOf(bytes: Uint8Array, s: number, e: number): number {
  let h = e - s;
  for (let i = s; i < e; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h;
}

function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const x = new Int32Array(a.length * 2);
  x.set(a);
  return x;
}

enum Kind {
  Fixed,
  String,
  LowCardinality,
  /** Map(LowCardinality(String), String) */
  Map,
  Array,
}

/** One column (or an Array's elements) being built. */
interface ColumnState {
  kind: Kind;
  /** Fixed: bytes per value */
  width: number;
  /** Fixed, String: the values; Map: the values' Strings */
  data: RowBinaryWriter;
  /** Map, Array: end offset per row (UInt64) */
  offsets: RowBinaryWriter;
  total: number;
  /** LowCardinality: the values; Map: the keys */
  dict: Dictionary;
  /** Map: the previous row's key indexes by position (keys repeat from span to span) */
  lastKeys: Int32Array;
  lastKeyCount: number;
  /** LowCardinality: the previous value's index */
  lastIndex: number;
  /** Map in streams: each row's end in the entries (scratch) */
  rowEnds: Int32Array;
  /** Map in streams: each chunk's values stream (a view), sent as it is after the keys */
  valueStreams: Buffer[];
  /** Array: its elements */
  element: ColumnState | undefined;
}

const FIXED_WIDTH: Record<string, number> = {
  UInt8: 1,
  Int8: 1,
  UInt16: 2,
  Int16: 2,
  UInt32: 4,
  Int32: 4,
  Float32: 4,
  DateTime: 4,
  UInt64: 8,
  Int64: 8,
  Float64: 8,
};

/** The state for a column of this ClickHouse type (the types the loader's encoders write). */
function columnState(type: string): ColumnState {
  const t = type.trim();
  const state = (kind: Kind, width = 0, element?: ColumnState): ColumnState => ({
    kind,
    width,
    data: newBuffer(),
    offsets: newBuffer(),
    total: 0,
    dict: new Dictionary(),
    lastKeys: new Int32Array(64),
    lastKeyCount: 0,
    lastIndex: -1,
    rowEnds: new Int32Array(0),
    valueStreams: [],
    element,
  });
  if (t === 'String') return state(Kind.String);
  if (t === 'LowCardinality(String)') return state(Kind.LowCardinality);
  if (t === 'Map(LowCardinality(String), String)') return state(Kind.Map);
  if (/^DateTime64\(\d+(,.*)?\)$/.test(t)) return state(Kind.Fixed, 8);
  const width = FIXED_WIDTH[t];
  if (width !== undefined) return state(Kind.Fixed, width);
  const array = /^Array\((.*)\)$/.exec(t);
  if (array) return state(Kind.Array, 0, columnState(array[1]!));
  throw new Error(`Native block: no encoding for column type ${type}`);
}

function reset(c: ColumnState): void {
  c.data.pos = 0;
  c.offsets.pos = 0;
  c.total = 0;
  c.dict.reset();
  c.lastKeyCount = 0;
  c.lastIndex = -1;
  c.valueStreams.length = 0;
  if (c.element) reset(c.element);
}

/** Reads one value of column `c` at p. */
function readValue(c: ColumnState): void {
  switch (c.kind) {
    case Kind.Fixed: {
      const s = p;
      p += c.width;
      if (p > src.length) throw new RangeError('RowBinary: truncated value');
      copyInput(c.data, s, p);
      return;
    }
    case Kind.String: {
      const s = p;
      skipString();
      copyInput(c.data, s, p);
      return;
    }
    case Kind.LowCardinality: {
      const s = skipString();
      const d = c.dict;
      // a column often repeats its last value (ServiceName, empty GenAI fields)
      const k = c.lastIndex >= 0 && d.is(c.lastIndex, s, p) ? c.lastIndex : d.indexOf(s, p);
      c.lastIndex = k;
      d.push(k);
      return;
    }
    case Kind.Map:
      readMap(c);
      return;
    case Kind.Array: {
      const n = readLength();
      const e = c.element as ColumnState;
      for (let i = 0; i < n; i++) readValue(e);
      c.total += n;
      c.offsets.uint64(c.total);
      return;
    }
  }
}

/** Room for a row of `n` keys in the previous row's key indexes. */
function keyRoom(c: ColumnState, n: number): void {
  while (n > c.lastKeys.length) c.lastKeys = grown(c.lastKeys);
}

/**
 * Reads the `i`-th key of a Map row at p and appends its index: spans of one instrumentation share
 * their keys, in order, so it is compared with the previous row's `i`-th key first.
 */
function readMapKey(c: ColumnState, i: number): void {
  const ks = skipString();
  const d = c.dict;
  const last = c.lastKeys;
  const k = i < c.lastKeyCount && d.is(last[i]!, ks, p) ? last[i]! : d.indexOf(ks, p);
  last[i] = k;
  d.push(k);
}

function readMap(c: ColumnState): void {
  const n = readLength();
  keyRoom(c, n);
  for (let i = 0; i < n; i++) {
    readMapKey(c, i);
    const vs = p;
    skipString();
    copyInput(c.data, vs, p);
  }
  c.lastKeyCount = n;
  c.total += n;
  c.offsets.uint64(c.total);
}

function writePrefix(c: ColumnState, out: RowBinaryWriter): void {
  if (c.kind === Kind.LowCardinality || c.kind === Kind.Map) out.uint64(LOW_CARDINALITY_VERSION);
  else if (c.element) writePrefix(c.element, out);
}

function writeData(c: ColumnState, block: BlockPieces): void {
  const out = block.out;
  switch (c.kind) {
    case Kind.Fixed:
    case Kind.String:
      out.raw(c.data.buf, 0, c.data.pos);
      return;
    case Kind.LowCardinality:
      c.dict.write(out);
      return;
    case Kind.Map:
      out.raw(c.offsets.buf, 0, c.offsets.pos);
      c.dict.write(out);
      out.raw(c.data.buf, 0, c.data.pos);
      for (const values of c.valueStreams) block.append(values, 0, values.length);
      return;
    case Kind.Array:
      out.raw(c.offsets.buf, 0, c.offsets.pos);
      writeData(c.element as ColumnState, block);
      return;
  }
}

/**
 * The block as pieces, in order: what is built in `out`, and between them the larger runs of the
 * chunks' bytes as views (not copied: the chunks outlive the insert).
 */
class BlockPieces {
  readonly parts: Buffer[] = [];
  /** out's bytes before this are in parts */
  private flushed = 0;
  constructor(readonly out: RowBinaryWriter) {}

  /** chunk[s, e) next in the block: copied to out when short, else as a view */
  append(chunk: Buffer, s: number, e: number): void {
    if (e - s < VIEW_BYTES) {
      this.out.raw(chunk, s, e);
      return;
    }
    this.flush();
    this.parts.push(chunk.subarray(s, e));
  }

  /** out's bytes since the last piece, as a piece */
  flush(): void {
    const out = this.out;
    if (out.pos > this.flushed) this.parts.push(out.buf.subarray(this.flushed, out.pos));
    this.flushed = out.pos;
  }
}

/** Turns chunks of `columns` in the span encoder's column layout into Native blocks (reusable: one per column list). */
export class NativeBlockEncoder {
  private readonly states: ColumnState[];
  /** the top-level Map columns: their keys and counts come in streams of their own */
  private readonly mapColumns: number[];
  /** Map and Array columns: each has a UInt64 offset per row in the block (one byte in RowBinary) */
  private readonly offsetColumns: number;
  private readonly header: Buffer[];

  constructor(readonly columns: readonly Column[]) {
    this.states = columns.map((c) => columnState(c.type));
    this.mapColumns = this.states.flatMap((st, i) => (st.kind === Kind.Map ? [i] : []));
    this.offsetColumns = this.states.filter((st) => st.kind === Kind.Map || st.kind === Kind.Array).length;
    this.header = columns.map((c) => {
      const h = newBuffer();
      for (const s of [c.name, c.type]) {
        const bytes = Buffer.from(s, 'utf8');
        h.varint(bytes.length);
        h.raw(bytes);
      }
      return Buffer.from(h.buf.subarray(0, h.pos));
    });
  }

  /**
   * One Native block (as pieces, in order) of the rows of `chunks`, each in the column layout of
   * traceRowBinary (a UInt32 count of streams, the UInt32 end of each, then each column's values as
   * RowBinary writes them, then each top-level Map column's keys and counts); `rows[i]`: the rows of
   * chunks[i]. A RangeError when a chunk's streams do not hold exactly that many values. The pieces
   * built here are in a pooled buffer (rowsBuffer): give it back with releaseRows(parts[0]) once the
   * block is sent, or leave it to the garbage collector.
   */
  encode(chunks: readonly Buffer[], rows: readonly number[]): Buffer[] {
    const states = this.states;
    const n = states.length;
    // the columns, then each top-level Map column's keys and counts
    const streams = n + 2 * this.mapColumns.length;
    let total = 0;
    let bytes = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (chunk.length < 4 + 4 * streams || chunk.readUInt32LE(0) !== streams)
        throw new RangeError(`column layout: not ${streams} streams`);
      total += rows[i]!;
      bytes += chunk.length;
    }
    const out = new RowBinaryWriter(0);
    const block = new BlockPieces(out);
    // room for the whole block, so that it is one pooled buffer: the chunks' bytes (LowCardinality
    // indexes and Map keys are at most as long as the values they stand for; up to 4 bytes for an
    // empty string with 65,536+ keys: hence twice), and each Map and Array column's offsets
    out.begin(2 * bytes + 8 * total * this.offsetColumns + 64 * n + 16);
    out.varint(n);
    out.varint(total);
    try {
      for (let c = 0; c < n; c++) {
        const state = states[c]!;
        out.raw(this.header[c]!);
        writePrefix(state, out);
        if (state.kind === Kind.Fixed || state.kind === Kind.String) {
          passColumn(state, c, streams, chunks, rows, block);
          continue;
        }
        reset(state);
        const m = this.mapColumns.indexOf(c);
        for (let i = 0; i < chunks.length; i++) {
          setInput(chunks[i]!);
          // a top-level Map column: values, keys and counts in streams of their own
          if (m >= 0) readSplitMap(state, rows[i]!, streams, c, n + 2 * m);
          else readColumn(state, c, streams, rows[i]!);
        }
        writeData(state, block);
      }
    } finally {
      setInput(NO_BYTES);
    }
    block.flush();
    return block.parts;
  }
}

// ---- a chunk's streams (the input is set to the chunk) ----
/** where stream `c` of the input starts and ends, set by streamBounds */
let streamStart = 0;
let streamEnd = 0;

/** Sets streamStart/streamEnd to stream `c` of the input (of `streams` streams); a RangeError past its end. */
function streamBounds(streams: number, c: number): void {
  const base = 4 + 4 * streams;
  const e = base + src.readUInt32LE(4 + 4 * c);
  const s = c === 0 ? base : base + src.readUInt32LE(4 * c);
  if (s > e || e > srcLength) throw new RangeError(`column layout: column ${c} out of bounds`);
  streamStart = s;
  streamEnd = e;
}

/**
 * A fixed-width or String column `c`: each chunk's values are checked and passed on as they are
 * (short runs copied, longer ones as views of the chunk).
 */
function passColumn(
  state: ColumnState,
  c: number,
  streams: number,
  chunks: readonly Buffer[],
  rows: readonly number[],
  block: BlockPieces,
): void {
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    setInput(chunk);
    streamBounds(streams, c);
    const s = streamStart;
    const e = streamEnd;
    p = s;
    skipValues(state, rows[i]!);
    if (p !== e) throw new RangeError(`column layout: column ${c} has bytes after its ${rows[i]} values`);
    block.append(chunk, s, e);
  }
}

/** `count` values of column `c` (LowCardinality, Array) from the input's stream. */
function readColumn(state: ColumnState, c: number, streams: number, count: number): void {
  streamBounds(streams, c);
  const e = streamEnd;
  p = streamStart;
  if (state.kind === Kind.LowCardinality) readLowCardinality(state, count, e);
  else if (state.kind === Kind.Array) readArrays(state, count);
  else for (let r = 0; r < count; r++) readValue(state);
  if (p !== e) throw new RangeError(`column layout: column ${c} has bytes after its ${count} values`);
}

/** `count` rows of an Array column: each row's end offset, its elements read as values of the element type. */
function readArrays(c: ColumnState, count: number): void {
  const e = c.element as ColumnState;
  let total = c.total;
  for (let r = 0; r < count; r++) {
    const n = readLength();
    for (let i = 0; i < n; i++) readValue(e);
    total += n;
    c.offsets.u64(total, 0); // below 2^32: the elements of one insert
  }
  c.total = total;
}

/**
 * `count` values of a LowCardinality column from its stream (ending at `end`): a loop of its own, as
 * most of a block's values are in these columns (ServiceName, SpanName, SpanKind, StatusCode, the
 * GenAI names), and a value is compared with the previous row's bytes in the input first: runs of
 * one value (a resource's spans, plain spans' empty GenAI fields) cost a length compare or a short
 * one.
 */
function readLowCardinality(c: ColumnState, count: number, end: number): void {
  const d = c.dict;
  d.reserve(count);
  const indexes = d.indexes;
  let at = d.count;
  let k = c.lastIndex;
  let prevStart = -1; // the previous value in this stream, src[prevStart, prevStart + prevLength)
  let prevLength = -1;
  for (let r = 0; r < count; r++) {
    let n = src[p] as number;
    let s = p + 1;
    if (n >= 0x80) {
      s = skipString();
      n = p - s;
    }
    p = s + n;
    if (p > end) throw new RangeError('RowBinary: truncated string');
    if (n !== prevLength || (n > 0 && !sameBytes(srcView, srcLength, prevStart, srcView, srcLength, s, p))) {
      k = k >= 0 && d.is(k, s, p) ? k : d.indexOf(s, p);
      prevStart = s;
      prevLength = n;
    }
    indexes[at++] = k;
  }
  d.count = at;
  c.lastIndex = k;
}

/**
 * `rows` rows of a Map column from its three streams in the input: per row its entry count × 2, + 1
 * when the row has the previous row's keys (which are then not in the keys), as a LEB128 (stream
 * keysAt + 1); the keys (stream keysAt) and the values (stream valuesAt), each RowBinary Strings.
 */
function readSplitMap(c: ColumnState, rows: number, streams: number, valuesAt: number, keysAt: number): void {
  streamBounds(streams, keysAt + 1);
  const countsEnd = streamEnd;
  p = streamStart;
  let entries = 0;
  if (c.rowEnds.length < rows) c.rowEnds = new Int32Array(rows * 2);
  const rowEnds = c.rowEnds; // each row's end in the entries × 2, + 1 when it repeats the previous row's keys
  for (let r = 0; r < rows; r++) {
    const x = readLength();
    entries += Math.floor(x / 2);
    rowEnds[r] = entries * 2 + (x & 1);
  }
  if (p !== countsEnd) throw new RangeError('column layout: a Map column has more counts than rows');
  streamBounds(streams, keysAt);
  const keysEnd = streamEnd;
  p = streamStart;
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const end = rowEnds[r]!;
    const n = (end >>> 1) - at;
    if ((end & 1) === 0) {
      keyRoom(c, n);
      for (let i = 0; i < n; i++) readMapKey(c, i);
      c.lastKeyCount = n;
    } else if (r === 0 || n !== c.lastKeyCount)
      throw new RangeError('column layout: a Map row repeats keys it does not follow');
    else c.dict.pushAll(c.lastKeys, n);
    at += n;
    c.offsets.uint64(c.total + at);
  }
  if (p !== keysEnd) throw new RangeError('column layout: a Map column has more keys than its counts');
  c.total += entries;
  streamBounds(streams, valuesAt);
  const valuesStart = streamStart;
  const valuesEnd = streamEnd;
  p = valuesStart;
  for (let i = 0; i < entries; i++) skipString();
  if (p !== valuesEnd) throw new RangeError('column layout: a Map column has more values than keys');
  c.valueStreams.push(src.subarray(valuesStart, valuesEnd));
}

/** Past `count` values of a fixed-width or String column. */
function skipValues(state: ColumnState, count: number): void {
  if (state.kind === Kind.Fixed) p += count * state.width;
  else for (let r = 0; r < count; r++) skipString();
  if (p > srcLength) throw new RangeError('RowBinary: truncated column');
}
