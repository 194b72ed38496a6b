/**
 * otel_traces rows straight from an ExportTraceServiceRequest's protobuf bytes to RowBinary, with no
 * object per span: the same rows as `traceRows` (traces-rows.ts, the readable reference; a property
 * test holds them equal), at a fraction of the CPU.
 *
 * The message is checked exactly as decoding would check it (a malformed message still goes to the
 * DLQ as undecodable, with decoding's error): validateTracesOutsideSpans checks all of it but the
 * spans; `span` checks each span's fields as it reads them (an unusual layout through the generated
 * Span validator), and attributeMap the KeyValues of span attribute lists as it copies them. Past
 * those checks the walk trusts the wire.
 * Resource and scope columns are encoded once per resource/scope and copied into each span's row.
 * Strings are copied as bytes (a protobuf length-prefixed string is a RowBinary String), ids written
 * as hex from their bytes, timestamps copied as Int64 ns. Attribute maps keep the first of duplicate
 * keys (like attributesToRecord); rare values (bytes, arrays, maps) go through the decoder and
 * anyValueToString, so their text is the exporter's.
 * GenAI columns come from `resolveSpan` (genai/resolve.ts) on the span's attributes that are AI
 * aliases (KeyValue objects whose value is decoded only when read; which keys they are is remembered
 * per key set) and its resource's, resolved once per resource, and are written as GENAI_COLUMNS
 * declares.
 * Layout 'columns' writes the same values column by column (each column to its own writer; a Map
 * column's keys and counts apart from its values), for one Native block per insert (native-block.ts).
 * In that layout the usual spans go through a WebAssembly module (wasm/span-columns.ts, spansByColumn):
 * it writes their columns but the GenAI ones, which are resolved here from the attribute bounds it
 * reports; `span` writes the spans it declines.
 */
import { isUtf8 } from 'node:buffer';
import { anyValueToString } from '../otlp/anyvalue.js';
import {
  otlpRoot,
  traceSpanValidator,
  validateProtobuf,
  validateSpanAnyValue,
  validateSpanKeyValue,
  validateTracesOutsideSpans,
} from '../otlp/codec.js';
import { LongClass } from '../otlp/ids.js';
import type { AnyValue, KeyValue } from '../otlp/model.js';
import { compileCodec } from '../otlp/wire.js';
import { ByteStringCache } from './byte-string-cache.js';
import { resourceFields } from './common.js';
import {
  type AliasRef,
  type CompiledDialects,
  defaultDialects,
  type GenAiFields,
  type GenAiHooks,
  type ListResolution,
  PLAIN_SPAN,
  readsKey,
  resolveList,
  resolveSpan,
} from './genai.js';
import { GENAI_COLUMNS } from './genai-columns.js';
import { copyBytes, RowBinaryWriter, sameBytes, viewOf } from './row-binary.js';
import { nanosToDateTime64 } from './time.js';
import {
  type EncodedRows,
  GENAI_FIRST,
  joinColumns,
  KIND_BYTES,
  type MapStreams,
  newMapStreams,
  PLAIN_GENAI,
  PLAIN_GENAI_COLUMN,
  STATUS_BYTES,
  TRACE_COLUMNS,
  writeGenAi,
  writeGenAiColumns,
} from './trace-columns.js';
import type { TraceMapOptions } from './traces-rows.js';
import * as wasmColumns from './wasm/span-columns.js';

export { type EncodedRows, TRACE_COLUMNS } from './trace-columns.js';

/** layout 'columns': plain spans whose GenAI values are not written yet (flushPlainGenAi) */
let plainGenAiRun = 0;

/** Writes the pending plain spans' GenAI values (zeros) to each GenAI column. */
function flushPlainGenAi(): void {
  if (plainGenAiRun === 0) return;
  for (let i = 0; i < GENAI_COLUMNS.length; i++) {
    const out = columnWriters[GENAI_FIRST + i]!;
    const n = plainGenAiRun * PLAIN_GENAI_COLUMN[i]!.length;
    out.ensure(n);
    out.buf.fill(0, out.pos, out.pos + n);
    out.pos += n;
  }
  plainGenAiRun = 0;
}
const anyValueCodec = compileCodec(otlpRoot.lookupType('opentelemetry.proto.common.v1.AnyValue'));
const decodeAnyValue = (src: Buffer, start: number, end: number): AnyValue =>
  anyValueCodec.decode(src.subarray(start, end)) as AnyValue;

// ---- reader over the (validated) message: buffer, position, last 64-bit varint as two halves ----
const NO_BYTES = Buffer.alloc(0);
let b: Buffer = NO_BYTES;
/** `b` as a DataView (word reads: copyBytes, sameBytes) */
const NO_BYTES_VIEW = viewOf(NO_BYTES);
let bv: DataView = NO_BYTES_VIEW;
let bLength = 0;
let p = 0;
let LO = 0;
let HI = 0;

const pastTheEnd = () => new RangeError('span encoder: a varint runs past the end of the message');

/** A length (validation has held it to 32 bits, so its full value is the one checked). */
function varint(): number {
  let x = b[p++] as number;
  if (x < 0x80) return x;
  let v = x & 0x7f;
  let mul = 128;
  for (;;) {
    // validated bytes end no varint past the message; should the walk ever disagree with validation,
    // this fails the message (to the DLQ) rather than reading `undefined` for ever
    if (x === undefined) throw pastTheEnd();
    x = b[p++] as number;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return v;
    mul *= 128;
  }
}

/** A tag (validation has held it to 32 bits). */
function tag32(): number {
  let x = b[p++] as number;
  if (x < 0x80) return x;
  let v = x & 0x7f;
  for (let shift = 7; ; shift += 7) {
    if (x === undefined) throw pastTheEnd(); // as in varint()
    x = b[p++] as number;
    if (shift < 32) v |= (x & 0x7f) << shift;
    if (x < 0x80) return v >>> 0;
  }
}

/** A 64-bit varint into LO/HI (unsigned 32-bit halves). */
function varint64(): void {
  let lo = 0;
  let hi = 0;
  let x = 0;
  for (let i = 0; i < 4; i++) {
    x = b[p++] as number;
    lo |= (x & 0x7f) << (i * 7);
    if (x < 0x80) {
      LO = lo >>> 0;
      HI = 0;
      return;
    }
  }
  x = b[p++] as number;
  lo |= (x & 0x7f) << 28;
  hi = (x & 0x7f) >> 4;
  for (let i = 0; x >= 0x80 && i < 5; i++) {
    x = b[p++] as number;
    hi |= (x & 0x7f) << (i * 7 + 3);
  }
  LO = lo >>> 0;
  HI = hi >>> 0;
}

function skip(tag: number): void {
  switch (tag & 7) {
    case 0:
      while ((b[p++] as number) >= 0x80);
      return;
    case 1:
      p += 8;
      return;
    case 2: {
      const n = varint();
      p += n;
      return;
    }
    case 5:
      p += 4;
      return;
    case 3: {
      const field = tag >>> 3;
      for (;;) {
        const t = tag32();
        if ((t & 7) === 4 && t >>> 3 === field) return;
        skip(t);
      }
    }
  }
}

const u32 = (at: number): number => bv.getUint32(at, true);

// ---- writers ----
/** the rows (layout 'rows'), handed over uncopied */
const rowWriter = new RowBinaryWriter();
/**
 * layout 'columns': each column's values (RowBinary) in its own writer, but for the two Map columns
 * (ResourceAttributes, SpanAttributes) only their values: their keys and counts are two more streams
 * each, after the columns (layoutWriters).
 */
const columnWriters = TRACE_COLUMNS.map(() => new RowBinaryWriter(1 << 16));
const resourceAttributeStreams = newMapStreams();
const spanAttributeStreams = newMapStreams();
/** the writers of layout 'columns', in order: the columns, then each Map column's keys and counts */
const layoutWriters = [
  ...columnWriters,
  resourceAttributeStreams.keys,
  resourceAttributeStreams.counts,
  spanAttributeStreams.keys,
  spanAttributeStreams.counts,
];
/** per resource, in layout 'columns': its attribute map's streams */
const resourceStreams = newMapStreams();
const rowLayout: RowBinaryWriter[] = TRACE_COLUMNS.map(() => rowWriter);
/** the writer of each of the WebAssembly module's streams */
const wasmStreamWriters = wasmColumns.STREAM_COLUMNS.map((name) => {
  if (name === 'keys') return spanAttributeStreams.keys;
  if (name === 'counts') return spanAttributeStreams.counts;
  const writer = columnWriters[TRACE_COLUMNS.findIndex((c) => c.name === name)];
  if (writer === undefined) throw new Error(`span columns module: no column ${name} in TRACE_COLUMNS`);
  return writer;
});
/** the module's streams as the tails of the layout's streams, joined at the end of the message */
const wasmStreamTails = wasmColumns.streamTails(wasmStreamWriters.map((w) => layoutWriters.indexOf(w)));
/** where each column's values go: all to rowWriter, or each to its columnWriter */
let cols = rowLayout;
/** the writer of the column being written (the write helpers write to it) */
let w = rowWriter;
const small = new RowBinaryWriter(4096);
const resourceMap = new RowBinaryWriter(4096);

const HEX = Buffer.from('0123456789abcdef');
/** both hex digits of a byte, as a little-endian 16-bit word (one store per byte) */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, x) => (HEX[x >> 4] as number) | ((HEX[x & 15] as number) << 8));
/** Lowercase hex of b[start, end) as a String column. */
function writeHex(start: number, end: number): void {
  const n = end - start;
  w.varint(2 * n);
  w.ensure(2 * n);
  const out = w.view;
  let o = w.pos;
  for (let i = start; i < end; i++, o += 2) out.setUint16(o, HEX_PAIRS[b[i] as number] as number, true);
  w.pos = o;
}

/** A DateTime64(9) from the fixed64 at `at` (-1: absent, 0); throws like nanosToDateTime64 past 2262. */
function writeNanos(at: number): void {
  if (at < 0) {
    w.u64(0, 0);
    return;
  }
  const lo = u32(at);
  const hi = u32(at + 4);
  if (hi > 0x7fffffff) nanosToDateTime64((BigInt(hi) << 32n) | BigInt(lo)); // throws the RangeError
  w.u64(lo, hi);
}

// ---- attribute lists: the first of duplicate keys kept, as attributesToRecord does ----
let attrCount = 0;
// the WebAssembly module's arrays (its spans' lists are resolved from them), until a list outgrows them
let keyStart = wasmColumns.keyStarts;
let keyEnd = wasmColumns.keyEnds;
/** bounds of the KeyValue's AnyValue (-1: no value field) */
let valStart = wasmColumns.valueStarts;
let valEnd = wasmColumns.valueEnds;
let keyHash = new Int32Array(wasmColumns.LIST_CAPACITY);
// open-addressing set of the keys seen in the current list (slots stamped with the list's number)
let slotList = new Int32Array(4 * wasmColumns.LIST_CAPACITY);
let slotEntry = new Int32Array(4 * wasmColumns.LIST_CAPACITY);

/** where the list being resolved starts in the arrays (the module puts a batch of spans' lists there) */
let listBase = 0;

/** Lists' bounds in the WebAssembly module's arrays again (after a list outgrew them, or they moved). */
function wasmListBounds(): void {
  keyStart = wasmColumns.keyStarts;
  keyEnd = wasmColumns.keyEnds;
  valStart = wasmColumns.valueStarts;
  valEnd = wasmColumns.valueEnds;
}
let listNo = 0;
/** the entries collected so far are in the key set (false while they are checked against a template) */
let indexed = true;

function growAttrs(): void {
  const grow = (a: Int32Array) => {
    const x = new Int32Array(a.length * 2);
    x.set(a);
    return x;
  };
  keyStart = grow(keyStart);
  keyEnd = grow(keyEnd);
  valStart = grow(valStart);
  valEnd = grow(valEnd);
  keyHash = grow(keyHash);
  slotList = new Int32Array(keyStart.length * 4);
  slotEntry = new Int32Array(keyStart.length * 4);
  // re-index the entries kept so far in the larger table
  listNo++;
  if (indexed) indexEntries();
}

/** Hashes the entries collected so far and puts them in the (empty) key set. */
function indexEntries(): void {
  for (let i = 0; i < attrCount; i++) keyHash[i] = bytesHash(keyStart[i]!, keyEnd[i]!);
  for (let i = 0; i < attrCount; i++) {
    const mask = slotList.length - 1;
    let s = firstSlot(keyHash[i]!, mask);
    while (slotList[s] === listNo) s = (s + 1) & mask;
    slotList[s] = listNo;
    slotEntry[s] = i;
  }
}

/** Where a key of hash h is first looked for in the key set (then the next slots, in turn). */
function firstSlot(h: number, mask: number): number {
  return (h ^ (h >>> 15)) & mask;
}

function bytesHash(start: number, end: number): number {
  let h = end - start;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h;
}

function sameKey(i: number, ks: number, ke: number): boolean {
  const s = keyStart[i]!;
  if (keyEnd[i]! - s !== ke - ks) return false;
  for (let j = 0; j < ke - ks; j++) if (b[s + j] !== b[ks + j]) return false;
  return true;
}

/**
 * Collects the KeyValues with field tag `tag` in b[start, end) into the attribute list (first of
 * duplicate keys kept) and writes them to `out` as a Map(String, String) value.
 *
 * A KeyValue laid out as every protobuf encoder writes it — key, then a value holding one string,
 * each length one byte — is copied as two byte runs: a protobuf length-prefixed string is already a
 * RowBinary String. Anything else takes the general path (fields in any order, repeated, or wider).
 *
 * `template` (a key set as 1-byte length + bytes per key, no key twice) is the key set expected:
 * while the keys are the template's, in order, none can be a duplicate, so they are compared with
 * it instead of hashed; at the first difference the entries so far are hashed and the list goes on
 * as any other. `templateMatched` tells whether the list's keys were exactly the template's.
 *
 * `split` (layout 'columns'): the keys go to split.keys and the count to split.counts (see MapStreams),
 * only the values to `out` — the Native block's streams of a Map column. When the template is the
 * previous row's key set (split.sameAs), the keys are not written while they match it; the row is then
 * marked as repeating the previous row's keys, or, at the first difference, the keys so far are
 * written from the template.
 */
function attributeMap(
  start: number,
  end: number,
  tag: number,
  out: RowBinaryWriter,
  template?: KeySet,
  check = false,
  split?: MapStreams,
): void {
  attrCount = 0;
  listNo++;
  let tp = template === undefined ? -1 : 0; // position in the template while the keys match it
  indexed = tp < 0;
  const src = b;
  const keysOut = split === undefined ? out : split.keys;
  // keys not written while they are the previous row's (the template's)
  let deferred = template !== undefined && split !== undefined && split.sameAs === template;
  let countAt = -1;
  if (split === undefined) {
    out.ensure(1);
    countAt = out.pos++; // one byte for the count; widened below in the rare case of 128+ entries
  }
  let at = start;
  while (at < end) {
    let lengthAt = at + 1;
    if (src[at] !== tag) {
      // another field, or this one with its tag written in more bytes than needed
      p = at;
      const t = tag32();
      if (t !== tag) {
        skip(t);
        at = p;
        continue;
      }
      lengthAt = p;
    }
    let n = src[lengthAt] as number;
    let kvStart = lengthAt + 1;
    if (n >= 0x80) {
      p = lengthAt;
      n = varint();
      kvStart = p;
    }
    const kvEnd = kvStart + n;
    at = kvEnd;
    const entryAt = out.pos; // where this entry's output starts (taken back if its key is a duplicate)
    let keyAt = keysOut.pos;
    let keyPending = false; // deferred: the key is neither written nor checked yet
    let ks: number;
    let ke: number;
    let vs: number;
    let ve: number;
    let written = false;
    const kl = src[kvStart + 1] as number;
    const vl = src[kvStart + 3 + kl] as number;
    if (
      src[kvStart] === 0x0a &&
      kl < 0x80 &&
      src[kvStart + 2 + kl] === 0x12 &&
      vl < 0x80 &&
      kvStart + 4 + kl + vl === kvEnd
    ) {
      // key, then value, each length one byte: the layout is valid as it is
      ks = kvStart + 2;
      ke = ks + kl;
      vs = ke + 2;
      ve = kvEnd;
      if (vl >= 2 && src[vs] === 0x0a && (src[vs + 1] as number) + 2 === vl) {
        // the value is one string: key and string copied with their length bytes; ASCII is valid UTF-8
        let bits: number;
        if (split === undefined) {
          out.ensure(kl + vl + 3); // copyBytes may write 3 bytes past its end
          const q = out.pos;
          bits =
            copyBytes(bv, bLength, ks - 1, ke, out.view, q) | copyBytes(bv, bLength, vs + 1, ve, out.view, q + kl + 1);
          out.pos = q + kl + vl;
        } else {
          out.ensure(vl + 3);
          const vq = out.pos;
          bits = copyBytes(bv, bLength, vs + 1, ve, out.view, vq);
          out.pos = vq + vl - 1;
          if (deferred) keyPending = true;
          else {
            keysOut.ensure(kl + 4);
            const kq = keysOut.pos;
            bits |= copyBytes(bv, bLength, ks - 1, ke, keysOut.view, kq);
            keysOut.pos = kq + kl + 1;
          }
        }
        if (check && (bits & 0x80808080) !== 0) validateSpanKeyValue(src, kvStart, kvEnd);
        written = true;
      } else if (check) {
        validateSpanAnyValue(src, vs, ve);
        for (let i = ks; i < ke; i++)
          if ((src[i] as number) >= 0x80) {
            validateSpanKeyValue(src, kvStart, kvEnd);
            break;
          }
      }
    } else {
      if (check) validateSpanKeyValue(src, kvStart, kvEnd);
      generalKeyValue(kvStart, kvEnd);
      ks = GKV.ks;
      ke = GKV.ke;
      vs = GKV.vs;
      ve = GKV.ve;
    }
    if (attrCount === keyStart.length) growAttrs();
    if (tp >= 0) {
      const kn = ke - ks;
      const t = template as KeySet;
      const tn = t.bytes.length;
      if (tp + 1 + kn <= tn && t.bytes[tp] === kn && sameBytes(t.view, tn, tp + 1, bv, bLength, ks, ke)) tp += 1 + kn;
      else {
        if (deferred) {
          // the keys so far are the template's first ones: written from it (length byte + bytes each)
          keysOut.raw(t.bytes, 0, tp);
          deferred = false;
          keyAt = keysOut.pos;
          if (keyPending) {
            keysOut.stringBytes(src, ks, ke);
            if (check && !isAscii(src, ks, ke)) validateSpanKeyValue(src, kvStart, kvEnd);
            keyPending = false;
          }
        }
        tp = -1;
        indexed = true;
        indexEntries();
      }
    }
    if (tp < 0 && !addKey(ks, ke)) {
      out.pos = entryAt;
      keysOut.pos = keyAt;
      continue;
    }
    keyStart[attrCount] = ks;
    keyEnd[attrCount] = ke;
    valStart[attrCount] = vs;
    valEnd[attrCount] = ve;
    attrCount++;
    if (written) continue;
    if (!deferred) keysOut.stringBytes(src, ks, ke);
    const ss = onlyStringValue(vs, ve);
    if (ss >= 0) out.stringBytes(src, ss, ve);
    else writeValueText(out, vs, ve);
  }
  p = end;
  templateMatched = template !== undefined && tp === template.bytes.length;
  if (!indexed && !templateMatched) {
    // a prefix of the template: hashed like any list (the key set memo reads the hashes)
    indexed = true;
    indexEntries();
  }
  if (split !== undefined) {
    let repeat = 0;
    if (deferred) {
      if (templateMatched) repeat = 1;
      else keysOut.raw((template as KeySet).bytes, 0, tp); // a prefix of the template
    }
    split.counts.varint(attrCount * 2 + repeat);
    split.sameAs = templateMatched ? template : undefined;
    return;
  }
  if (attrCount < 0x80) {
    out.buf[countAt] = attrCount;
    return;
  }
  // widen the count: move the entries right by the extra bytes of its LEB128
  let extra = 0;
  for (let n = attrCount; n > 0x7f; n = Math.floor(n / 128)) extra++;
  out.ensure(extra);
  out.buf.copyWithin(countAt + 1 + extra, countAt + 1, out.pos);
  let o = countAt;
  let n = attrCount;
  for (; n > 0x7f; n = Math.floor(n / 128)) out.buf[o++] = (n & 0x7f) | 0x80;
  out.buf[o] = n;
  out.pos += extra;
}

function isAscii(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/** Puts the key b[ks, ke) in the current list's key set as entry attrCount; false when it is there already. */
function addKey(ks: number, ke: number): boolean {
  let h = ke - ks;
  for (let i = ks; i < ke; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  const mask = slotList.length - 1;
  let s = firstSlot(h, mask);
  while (slotList[s] === listNo) {
    const e = slotEntry[s]!;
    if (keyHash[e] === h && sameKey(e, ks, ke)) return false;
    s = (s + 1) & mask;
  }
  slotList[s] = listNo;
  slotEntry[s] = attrCount;
  keyHash[attrCount] = h;
  return true;
}

/** Key and value bounds of a KeyValue in any layout (the last of repeated fields wins, as in decoding). */
const GKV = { ks: 0, ke: 0, vs: -1, ve: -1 };
function generalKeyValue(kvStart: number, kvEnd: number): void {
  GKV.ks = 0;
  GKV.ke = 0;
  GKV.vs = -1;
  GKV.ve = -1;
  p = kvStart;
  while (p < kvEnd) {
    const f = tag32();
    if (f === 0x0a) {
      const m = varint();
      GKV.ks = p;
      GKV.ke = p + m;
      p += m;
    } else if (f === 0x12) {
      const m = varint();
      GKV.vs = p;
      GKV.ve = p + m;
      p += m;
    } else skip(f);
  }
}

/** Where the string starts when AnyValue b[vs, ve) is exactly one string_value field, else -1. */
function onlyStringValue(vs: number, ve: number): number {
  if (vs < 0 || ve - vs < 2 || b[vs] !== 0x0a) return -1;
  p = vs + 1;
  const n = varint();
  return p + n === ve ? p : -1;
}

/** An AnyValue's text as anyValueToString gives it (the last oneof member present wins, as decoding does). */
function writeValueText(out: RowBinaryWriter, start: number, end: number): void {
  if (start < 0) {
    out.uint8(0);
    return;
  }
  let kind = 0;
  let ms = 0;
  let me = 0;
  let lo = 0;
  let hi = 0;
  p = start;
  while (p < end) {
    const t = tag32();
    switch (t) {
      case 0x0a: {
        const n = varint();
        kind = 1;
        ms = p;
        me = p + n;
        p = me;
        continue;
      }
      case 0x10:
      case 0x18:
        varint64();
        kind = t === 0x10 ? 2 : 3;
        lo = LO;
        hi = HI;
        continue;
      case 0x21:
        kind = 4;
        ms = p;
        p += 8;
        continue;
      case 0x2a:
      case 0x32:
      case 0x3a:
        kind = 5;
        // not `p += varint()`: that adds the length to p as it was before the length was read
        p = varint() + p;
        continue;
      default:
        skip(t);
    }
  }
  switch (kind) {
    case 1:
      out.stringBytes(b, ms, me);
      return;
    case 2:
      out.string(lo !== 0 || hi !== 0 ? 'true' : 'false');
      return;
    case 3:
      out.string(
        hi === 0
          ? String(lo)
          : hi === 0xffffffff && lo >= 0x80000000
            ? String(lo | 0)
            : BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString(),
      );
      return;
    case 4: {
      const d = b.readDoubleLE(ms);
      out.string(Number.isFinite(d) ? String(d) : Number.isNaN(d) ? 'NaN' : d > 0 ? '+Inf' : '-Inf');
      return;
    }
    case 5:
      out.string(anyValueToString(decodeAnyValue(b, start, end)));
      return;
    default:
      out.uint8(0);
      return;
  }
}

// ---- KeyValues for the GenAI resolution and resourceFields: keys as strings, values decoded when read ----
/** A KeyValue of the message being encoded (pooled: valid only during resolveSpan / resolveList / resourceFields). */
class WireKeyValue implements KeyValue {
  key = '';
  start = -1;
  end = -1;
  get value(): AnyValue | undefined {
    return this.start < 0 ? undefined : wireAnyValue(this.start, this.end);
  }
}
const keyValuePool: WireKeyValue[] = [];
const pooledLists: (WireKeyValue[] | undefined)[] = [];

/** The AnyValue b[start, end) as the decoder builds it: one scalar member directly, anything else decoded. */
function wireAnyValue(start: number, end: number): AnyValue {
  // an empty AnyValue (value field present, no member): nothing to read — reading a tag here would run
  // past the value, and at the end of the message past the buffer
  if (start >= end) return {};
  p = start;
  const t = tag32();
  switch (t) {
    case 0x0a: {
      const n = varint();
      if (p + n === end)
        return { stringValue: n > ByteStringCache.WIDTH ? b.toString('utf8', p, end) : valueStrings.get(b, p, n) };
      break;
    }
    case 0x10:
      varint64();
      if (p === end) return { boolValue: LO !== 0 || HI !== 0 };
      break;
    case 0x18:
      varint64();
      if (p === end) {
        // the decoder's Long, or the same value as a number when it is exact (int64ToNumber/String agree)
        if (HI < 0x200000 || HI >= 0xffe00000) return { intValue: (HI | 0) * 4294967296 + LO };
        return { intValue: new LongClass(LO | 0, HI | 0, false) };
      }
      break;
    case 0x21:
      if (p + 8 === end) return { doubleValue: b.readDoubleLE(p) };
      break;
  }
  return decodeAnyValue(b, start, end);
}

const keyStrings = new ByteStringCache(true);
const valueStrings = new ByteStringCache(false);

function keyString(i: number): string {
  const s = keyStart[i]!;
  const n = keyEnd[i]! - s;
  return n > ByteStringCache.WIDTH ? b.toString('utf8', s, s + n) : keyStrings.get(b, s, n);
}

// ---- GenAI columns: the attributes they read, remembered per attribute key set ----
// Spans of one instrumentation share their attribute keys, and the resolution reads only keys that
// are AI aliases (readsKey). Per key set (and dialect tables) the indices of those keys are kept:
// a span whose key set has none is plain without a call; any other span is resolved from just those
// attributes, which gives the same fields as resolving all of them.
/** A list's keys, each as a length byte + its bytes (the attributeMap template), and a view of them. */
interface KeySet {
  bytes: Buffer;
  view: DataView;
}
/** The keys of a list that the GenAI resolution reads: where they are in the list, their text and aliases. */
interface ReadKeys {
  indices: Int32Array;
  names: string[];
  /** dialects.byKey of each name, looked up once */
  refs: (AliasRef[] | undefined)[];
}
interface KeySetPlan {
  hash: number;
  keys: KeySet;
  dialects: CompiledDialects;
  read: ReadKeys;
}
const PLAN_SLOTS = 1024;
const plans: (KeySetPlan | undefined)[] = new Array(PLAN_SLOTS);
// the hooks' calls of one message, added up and reported once per distinct pair (reportHooks): a
// counter increment per span costs more than the span's other AI columns; counted by first, then
// second argument (no key string built per call)
type CallCounts = Map<string, Map<string, number>>;
const unknownModels: CallCounts = new Map();
const invalidUsage: CallCounts = new Map();
const countCall = (calls: CallCounts, a: string, b: string) => {
  let byB = calls.get(a);
  if (byB === undefined) calls.set(a, (byB = new Map()));
  byB.set(b, (byB.get(b) ?? 0) + 1);
};
const hooks: GenAiHooks = {
  onUnknownModel: (provider, model) => countCall(unknownModels, provider, model),
  onInvalidUsage: (field, dialect) => countCall(invalidUsage, field, dialect),
};

function reportHooks(): void {
  for (const [calls, hook] of [
    [unknownModels, options.onUnknownModel],
    [invalidUsage, options.onInvalidUsage],
  ] as const) {
    if (calls.size === 0) continue;
    for (const [a, byB] of calls) for (const [b, n] of byB) hook?.(a, b, n);
    calls.clear();
  }
}

function keySetHash(): number {
  let h = attrCount;
  for (let i = 0; i < attrCount; i++) h = Math.imul(h ^ keyHash[i]!, 0x9e3779b1) ^ (h >>> 15);
  return h;
}

function isKeySet(keys: Buffer): boolean {
  let at = 0;
  for (let i = 0; i < attrCount; i++) {
    const s = keyStart[i]!;
    const n = keyEnd[i]! - s;
    if (at >= keys.length || keys[at] !== n) return false;
    at += 1;
    for (let j = 0; j < n; j++) if (keys[at + j] !== b[s + j]) return false;
    at += n;
  }
  return at === keys.length;
}

function collectedKeySet(): KeySet | undefined {
  const parts: Buffer[] = [];
  for (let i = 0; i < attrCount; i++) {
    const n = keyEnd[i]! - keyStart[i]!;
    if (n > 0x7f) return undefined;
    parts.push(Buffer.from([n]), b.subarray(keyStart[i]!, keyEnd[i]!));
  }
  const bytes = Buffer.concat(parts);
  return { bytes, view: viewOf(bytes) };
}

/** the key set of the last span's attributes: the next span's attributeMap template */
let lastPlan: KeySetPlan | undefined;
/** the list attributeMap collected last had exactly its template's keys */
let templateMatched = false;

/** The template for the next span's attribute list (the last span's key set, under the same dialects). */
function spanTemplate(): KeySet | undefined {
  return lastPlan !== undefined && lastPlan.dialects === dialects ? lastPlan.keys : undefined;
}

/** Indices of the collected keys the resolution reads (remembered per key set). */
function keysRead(): ReadKeys {
  if (templateMatched && lastPlan !== undefined) return lastPlan.read;
  const h = keySetHash();
  const slot = h & (PLAN_SLOTS - 1);
  const plan = plans[slot];
  if (plan !== undefined && plan.hash === h && plan.dialects === dialects && isKeySet(plan.keys.bytes)) {
    lastPlan = plan;
    return plan.read;
  }
  const indices: number[] = [];
  const names: string[] = [];
  for (let i = 0; i < attrCount; i++) {
    const key = keyString(i);
    if (!readsKey(dialects, key)) continue;
    indices.push(i);
    names.push(key);
  }
  const read = { indices: Int32Array.from(indices), names, refs: names.map((k) => dialects.byKey.get(k)) };
  const keys = collectedKeySet();
  if (keys !== undefined) plans[slot] = lastPlan = { hash: h, keys, dialects, read };
  return read;
}

/** The GenAI fields of the span whose attributes are the collected list. */
function spanGenAi(res: ResourceColumns, kind: number, timeMs: number): GenAiFields {
  const read = keysRead();
  if (read.indices.length === 0) return PLAIN_SPAN;
  return resolveSpan(dialects, keyValuesAt(read), res.ai, { kind, timeMs }, options.pricing, hooks, read.refs);
}

/** The first `n` pooled KeyValues as a list of that length (one list per length: setting an array's length is a runtime call). */
function pooledList(n: number): WireKeyValue[] {
  while (keyValuePool.length < n) keyValuePool.push(new WireKeyValue());
  let list = pooledLists[n];
  if (list === undefined) pooledLists[n] = list = keyValuePool.slice(0, n);
  return list;
}

/** The collected list as KeyValues (the same pooled list and objects every call). */
function collectedKeyValues(): KeyValue[] {
  const list = pooledList(attrCount);
  for (let i = 0; i < attrCount; i++) wireKeyValue(i, i);
  return list;
}

/** The entries the resolution reads, in order, as KeyValues (pooled like collectedKeyValues). */
function keyValuesAt(read: ReadKeys): KeyValue[] {
  const n = read.indices.length;
  const list = pooledList(n);
  for (let j = 0; j < n; j++) {
    const i = listBase + read.indices[j]!;
    const kv = list[j]!;
    kv.key = read.names[j]!;
    kv.start = valStart[i]!;
    kv.end = valEnd[i]!;
  }
  return list;
}

function wireKeyValue(slot: number, i: number): WireKeyValue {
  const kv = keyValuePool[slot]!;
  kv.key = keyString(i);
  kv.start = valStart[i]!;
  kv.end = valEnd[i]!;
  return kv;
}

// ---- the message ----

interface ResourceColumns {
  /**
   * The resource's column values back to back, each up to where the next starts: ServiceName (from
   * 0), ResourceAttributes (its values only in layout 'columns'), then for layout 'columns' the
   * ResourceAttributes keys, its entry count and the count of a row repeating the previous row's keys
   * (see MapStreams), then TenantId and Environment (up to `end`)
   */
  values: DataView;
  attributes: number;
  attributeKeys: number;
  attributeCount: number;
  attributeCountRepeated: number;
  tenant: number;
  environment: number;
  end: number;
  /** the resource's AI fields (resolved once for all its spans) */
  ai: ListResolution;
}

let options: TraceMapOptions = {};
let dialects = defaultDialects();

/**
 * otel_traces rows of one ExportTraceServiceRequest (throws OtlpDecodeError or RangeError for a poison
 * message). Layout 'rows' (default): RowBinary rows. Layout 'columns': the same values column by
 * column (see joinColumns), for one Native block per insert (native-block.ts).
 */
export function traceRowBinary(message: Buffer, opts: TraceEncodeOptions = {}): EncodedRows {
  b = message;
  bv = viewOf(message);
  bLength = message.length;
  p = 0;
  const byColumn = opts.layout === 'columns';
  cols = byColumn ? columnWriters : rowLayout;
  if (byColumn) {
    for (const c of layoutWriters) c.pos = 0;
    wasmColumns.loadMessage(message);
    wasmListBounds();
    // a message is a chunk of its own in the block: its first row writes its keys
    resourceAttributeStreams.sameAs = undefined;
    spanAttributeStreams.sameAs = undefined;
  }
  // rows are about the size of the message (hex ids are longer, field tags gone): handed over uncopied
  else rowWriter.begin(message.length + (message.length >> 2) + 4096);
  options = opts;
  dialects = opts.dialects ?? defaultDialects();
  try {
    // all but the spans, which `span` checks as it reads them
    validateTracesOutsideSpans(message);
    const rows = sumOverFields(0, message.length, 0x0a, resourceSpans);
    if (!byColumn) return { data: rowWriter.detach(), rows };
    flushPlainGenAi();
    const data = joinColumns(layoutWriters, wasmStreamTails);
    wasmColumns.clearColumns();
    return { data, rows };
  } catch (err) {
    // a message that fails is not loaded: its spans' hook calls are not reported
    unknownModels.clear();
    invalidUsage.clear();
    // the walk checks spans as it reaches them, in its own words: decoding's error is that of the
    // message's first fault, which validateProtobuf throws (a message it passes failed for another
    // reason, such as a timestamp out of range)
    validateProtobuf('traces', message);
    throw err;
  } finally {
    reportHooks();
    b = NO_BYTES;
    bv = NO_BYTES_VIEW;
    bLength = 0;
    listBase = 0;
    rowWriter.pos = 0;
    plainGenAiRun = 0;
    cols = rowLayout;
    w = rowWriter;
    options = {};
  }
}

export interface TraceEncodeOptions extends TraceMapOptions {
  layout?: 'rows' | 'columns';
}

/** Bounds of the last field with tag `tag` in b[start, end) into FOUND (start -1: none). */
const FOUND = { start: -1, end: -1 };
const FOUND_NONE: Readonly<typeof FOUND> = { start: -1, end: -1 };
function lastField(start: number, end: number, tag: number): typeof FOUND {
  FOUND.start = -1;
  FOUND.end = -1;
  p = start;
  while (p < end) {
    const t = tag32();
    if (t !== tag) {
      skip(t);
      continue;
    }
    const n = varint();
    FOUND.start = p;
    FOUND.end = p + n;
    p += n;
  }
  return FOUND;
}

function resourceSpans(start: number, end: number): number {
  // the resource (last occurrence wins, as in decoding) may come after its scopes
  const { start: rs, end: re } = lastField(start, end, 0x0a);
  const split = cols === rowLayout ? undefined : resourceStreams;
  resourceMap.pos = 0;
  resourceStreams.keys.pos = 0;
  resourceStreams.counts.pos = 0;
  if (rs >= 0) attributeMap(rs, re, 0x0a, resourceMap, undefined, false, split);
  else {
    attrCount = 0;
    (split?.counts ?? resourceMap).uint8(0);
  }
  const entries = attrCount;
  const resourceKeyValues = collectedKeyValues();
  const fields = resourceFields(resourceKeyValues);
  const ai = resolveList(dialects, resourceKeyValues);
  // the values back to back in one buffer (one allocation per resource), each ending where the next starts
  const v = small;
  v.pos = 0;
  v.string(fields.ServiceName);
  const attributes = v.pos;
  v.raw(resourceMap.buf, 0, resourceMap.pos);
  const attributeKeys = v.pos;
  v.raw(resourceStreams.keys.buf, 0, resourceStreams.keys.pos);
  const attributeCount = v.pos;
  v.raw(resourceStreams.counts.buf, 0, resourceStreams.counts.pos);
  const attributeCountRepeated = v.pos;
  v.varint(entries * 2 + 1);
  const tenant = v.pos;
  v.string(fields.TenantId);
  const environment = v.pos;
  v.string(fields.Environment);
  const valuesEnd = v.pos;
  const res: ResourceColumns = {
    values: viewOf(v.take()),
    attributes,
    attributeKeys,
    attributeCount,
    attributeCountRepeated,
    tenant,
    environment,
    end: valuesEnd,
    ai,
  };
  return sumOverFields(start, end, 0x12, (s, e) => scopeSpans(s, e, res));
}

/** ScopeName, ScopeVersion: their values, back to back in `values` (the version from `version` on) */
interface ScopeColumns {
  values: DataView;
  version: number;
}

function scopeSpans(start: number, end: number, res: ResourceColumns): number {
  const { start: ss, end: se } = lastField(start, end, 0x0a);
  small.pos = 0;
  scopeString(ss, se, 0x0a);
  const version = small.pos;
  scopeString(ss, se, 0x12);
  const scope: ScopeColumns = { values: viewOf(small.take()), version };
  if (cols !== rowLayout) {
    const spans = spansByColumn(start, end, res, scope);
    writeScopeConstants(res, scope, spans);
    return spans;
  }
  return sumOverFields(start, end, 0x12, (s, e) => {
    span(s, e, res, scope);
    return 1;
  });
}

/**
 * Layout 'columns': the spans of the ScopeSpans in b[start, end), through the WebAssembly module while
 * it takes them (wasm/span-columns.ts: their columns but the GenAI ones, written here), and through
 * `span` the ones it declines.
 */
function spansByColumn(start: number, end: number, res: ResourceColumns, scope: ScopeColumns): number {
  const split = spanAttributeStreams;
  let spans = 0;
  let at = start;
  /** the module found no room for a span with its streams just emptied */
  let emptied = false;
  while (at < end) {
    const template = spanTemplate();
    const plan = lastPlan;
    const n = wasmColumns.encodeSpans(at, end, template?.bytes, template !== undefined && split.sameAs === template);
    // the spans' GenAI columns, from their records and attribute bounds
    wasmListBounds();
    const records = wasmColumns.records;
    for (let j = 0; j < n; j++) {
      const count = records[4 * j]!;
      if (count === wasmColumns.NO_ATTRIBUTES) {
        attrCount = 0;
        templateMatched = false;
        split.sameAs = undefined;
      } else {
        // its keys are the template's (the plan's, whatever the spans between made the last plan)
        attrCount = count;
        templateMatched = true;
        lastPlan = plan;
        split.sameAs = template;
        listBase = records[4 * j + 3]!;
      }
      const startAt = records[4 * j + 2]!;
      const startMs = startAt < 0 ? 0 : (u32(startAt + 4) * 4294967296 + u32(startAt)) / 1e6;
      const genAi = spanGenAi(res, records[4 * j + 1]!, startMs);
      listBase = 0;
      if (genAi === PLAIN_SPAN) plainGenAiRun++;
      else {
        flushPlainGenAi();
        writeGenAiColumns(cols, GENAI_FIRST, genAi);
      }
    }
    spans += n;
    at = wasmColumns.stopAt();
    const reason = wasmColumns.stopReason();
    if (reason === wasmColumns.STOP_END) break;
    // the columns so far to their writers: room in the module's streams again, or a span written here next
    wasmColumns.flushColumns(wasmStreamWriters);
    if (reason === wasmColumns.STOP_FULL && (n > 0 || !emptied)) {
      emptied = n === 0;
      continue;
    }
    emptied = false;
    // one field here: a span the module declined (or too large for it), or another field
    p = at;
    const t = tag32();
    if (t !== 0x12) {
      skip(t);
      at = p;
      continue;
    }
    const length = varint();
    const s = p;
    span(s, s + length, res, scope);
    spans++;
    at = s + length;
  }
  return spans;
}

/**
 * Layout 'columns': the columns whose value is the same for every span of a scope (its resource's
 * ServiceName, ResourceAttributes, TenantId and Environment, its own name and version), written for
 * its `n` spans at once after them, each a pattern fill instead of a copy per span.
 */
function writeScopeConstants(res: ResourceColumns, scope: ScopeColumns, n: number): void {
  if (n === 0) return;
  const c = cols;
  const rv = res.values;
  c[7]!.repeatRange(rv, 0, res.attributes, n);
  c[8]!.repeatRange(rv, res.attributes, res.attributeKeys, n);
  // the spans of a resource follow each other: its keys once, then "the previous row's keys"
  const ra = resourceAttributeStreams;
  let repeated = n;
  if (ra.sameAs !== res) {
    ra.keys.rawRange(rv, res.attributeKeys, res.attributeCount);
    ra.counts.rawRange(rv, res.attributeCount, res.attributeCountRepeated);
    ra.sameAs = res;
    repeated--;
  }
  ra.counts.repeatRange(rv, res.attributeCountRepeated, res.tenant, repeated);
  c[9]!.repeatRange(scope.values, 0, scope.version, n);
  c[10]!.repeatRange(scope.values, scope.version, scope.values.byteLength, n);
  c[22]!.repeatRange(rv, res.tenant, res.environment, n);
  c[23]!.repeatRange(rv, res.environment, res.end, n);
}

/** Appends to `small` the scope's (b[ss, se), none: ss < 0) string field `tag`, '' when absent. */
function scopeString(ss: number, se: number, tag: number): void {
  const f = ss < 0 ? FOUND_NONE : lastField(ss, se, tag);
  if (f.start < 0) small.uint8(0);
  else small.stringBytes(b, f.start, f.end);
}

/** The sum of `visit` over the bounds of each length-delimited field with tag `tag` in b[start, end). */
function sumOverFields(start: number, end: number, tag: number, visit: (s: number, e: number) => number): number {
  let sum = 0;
  p = start;
  while (p < end) {
    const t = tag32();
    if (t !== tag) {
      skip(t);
      continue;
    }
    const n = varint();
    const s = p;
    sum += visit(s, s + n);
    p = s + n; // visit moved p
  }
  return sum;
}

// per span: bounds of its events and links
let eventCount = 0;
let eventStart = new Int32Array(16);
let eventEnd = new Int32Array(16);
let linkCount = 0;
let linkStart = new Int32Array(16);
let linkEnd = new Int32Array(16);
function pushBounds(list: 'event' | 'link', s: number, e: number): void {
  if (list === 'event') {
    if (eventCount === eventStart.length) [eventStart, eventEnd] = [grown(eventStart), grown(eventEnd)];
    eventStart[eventCount] = s;
    eventEnd[eventCount++] = e;
  } else {
    if (linkCount === linkStart.length) [linkStart, linkEnd] = [grown(linkStart), grown(linkEnd)];
    linkStart[linkCount] = s;
    linkEnd[linkCount++] = e;
  }
}
function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const x = new Int32Array(a.length * 2);
  x.set(a);
  return x;
}

// ---- the checks of a span's fields (validateTracesOutsideSpans leaves spans to `span`) ----
const checkSpan = traceSpanValidator('Span');
const checkEvent = traceSpanValidator('Span.Event');
const checkLink = traceSpanValidator('Span.Link');
const checkStatus = traceSpanValidator('Status');
/** the one-byte tags of the span fields `span` checks itself; any other field goes through checkSpan */
const SPAN_FIELD_TAGS = new Uint8Array(256);
for (const t of [0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x30, 0x39, 0x41, 0x4a, 0x50, 0x5a, 0x60, 0x6a, 0x70, 0x7a])
  SPAN_FIELD_TAGS[t] = 1;
/** A fault `span` found (traceRowBinary throws decoding's error for the message instead). */
const spanFault = () => new RangeError('span encoder: a malformed span field');

/** Checks that a varint of at most 10 bytes, ending by `end`, starts at p (p stays). */
function checkVarint(end: number): void {
  const last = Math.min(end, p + 10);
  for (let i = p; i < last; i++) if ((b[i] as number) < 0x80) return;
  throw spanFault();
}

/** A length at p that fits 32 bits and whose bytes end by `end` (as decoding requires); p moves past it. */
function checkedLength(end: number): number {
  let x = b[p] as number;
  let n = x;
  if (x >= 0x80 || p >= end) {
    // several bytes: summed as a float, so that a length of 2^32 or more shows (as decoding refuses it)
    n = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (i === 10 || p >= end) throw spanFault();
      x = b[p++] as number;
      n += (x & 0x7f) * mul;
      if (x < 0x80) break;
      mul *= 128;
    }
    if (n >= 2 ** 32) throw spanFault();
  } else p++;
  if (n > end - p) throw spanFault();
  return n;
}

/** Whether b[s, e) is UTF-8 (ASCII is, up to its first other byte). */
function isUtf8At(s: number, e: number): boolean {
  for (let i = s; i < e; i++) if ((b[i] as number) >= 0x80) return isUtf8(b.subarray(i, e));
  return true;
}

/** Checks the status at b[s, e): its usual fields (code, message) here, anything else through checkStatus. */
function checkStatusAt(s: number, e: number): void {
  const after = p;
  p = s;
  while (p < e) {
    const t = b[p++] as number;
    if (t === 0x18) {
      checkVarint(e);
      while ((b[p++] as number) >= 0x80);
    } else if (t === 0x12) {
      const n = checkedLength(e);
      if (!isUtf8At(p, p + n)) throw spanFault();
      p += n;
    } else {
      checkStatus(b, s, e);
      break;
    }
  }
  p = after;
}

function span(start: number, end: number, res: ResourceColumns, scope: ScopeColumns): void {
  let traceS = 0;
  let traceE = 0;
  let spanS = 0;
  let spanE = 0;
  let parentS = 0;
  let parentE = 0;
  let stateS = 0;
  let stateE = 0;
  let nameS = 0;
  let nameE = 0;
  let kind = 0;
  let startAt = -1;
  let endAt = -1;
  let statusS = -1;
  let statusE = -1;
  let hasAttributes = false;
  eventCount = 0;
  linkCount = 0;
  // the fields are checked as they are read, until one is unusual (another field, a tag in more
  // bytes): then checkSpan checks the span, and the rest of it is read as checked
  let checked = false;
  p = start;
  while (p < end) {
    let t = b[p] as number;
    if (checked) t = tag32();
    else if (SPAN_FIELD_TAGS[t] === 1) p++;
    else if (t === 0x85 && b[p + 1] === 0x01 && p + 6 <= end) {
      p += 6; // flags (field 16, fixed32)
      continue;
    } else {
      checkSpan(b, start, end);
      checked = true;
      continue;
    }
    switch (t) {
      case 0x39: // start_time_unix_nano
        startAt = p;
        p += 8;
        if (p > end) throw spanFault();
        continue;
      case 0x41: // end_time_unix_nano
        endAt = p;
        p += 8;
        if (p > end) throw spanFault();
        continue;
      case 0x30: // kind
        if (!checked) checkVarint(end);
        varint64();
        kind = LO | 0;
        continue;
    }
    if ((t & 7) !== 2) {
      if (!checked) checkVarint(end); // the dropped counts
      skip(t);
      continue;
    }
    let n = b[p] as number;
    if (n < 0x80 && n < end - p)
      p++; // one byte, its bytes in the span
    else n = checked ? varint() : checkedLength(end);
    const s = p;
    p += n;
    if (!checked)
      switch (t) {
        case 0x1a: // trace_state
        case 0x2a: // name
          if (!isUtf8At(s, p)) throw spanFault();
          break;
        case 0x5a:
          checkEvent(b, s, p);
          break;
        case 0x6a:
          checkLink(b, s, p);
          break;
        case 0x7a:
          checkStatusAt(s, p);
          break;
      }
    switch (t) {
      case 0x0a:
        traceS = s;
        traceE = p;
        break;
      case 0x12:
        spanS = s;
        spanE = p;
        break;
      case 0x1a:
        stateS = s;
        stateE = p;
        break;
      case 0x22:
        parentS = s;
        parentE = p;
        break;
      case 0x2a:
        nameS = s;
        nameE = p;
        break;
      case 0x4a:
        hasAttributes = true;
        break;
      case 0x5a:
        pushBounds('event', s, p);
        break;
      case 0x6a:
        pushBounds('link', s, p);
        break;
      case 0x7a:
        statusS = s;
        statusE = p;
        break;
    }
  }

  const c = cols;
  w = c[0]!;
  writeNanos(startAt);
  w = c[1]!;
  writeHex(traceS, traceE);
  w = c[2]!;
  writeHex(spanS, spanE);
  w = c[3]!;
  writeHex(parentS, parentE);
  c[4]!.stringBytes(b, stateS, stateE);
  c[5]!.stringBytes(b, nameS, nameE);
  c[6]!.raw(KIND_BYTES[kind] ?? (KIND_BYTES[0] as Buffer));
  const rv = res.values;
  const byColumn = c !== rowLayout;
  if (!byColumn) {
    // (layout 'columns': after the scope's spans, writeScopeConstants)
    c[7]!.rawRange(rv, 0, res.attributes);
    c[8]!.rawRange(rv, res.attributes, res.attributeKeys);
    c[9]!.rawRange(scope.values, 0, scope.version);
    c[10]!.rawRange(scope.values, scope.version, scope.values.byteLength);
  }
  if (hasAttributes)
    attributeMap(start, end, 0x4a, c[11]!, spanTemplate(), true, byColumn ? spanAttributeStreams : undefined);
  else {
    attrCount = 0;
    templateMatched = false;
    if (byColumn) {
      spanAttributeStreams.counts.uint8(0);
      spanAttributeStreams.sameAs = undefined;
    } else c[11]!.uint8(0);
  }
  // start time in ms (prices valid at that time); fixed64 nanoseconds, 0 when absent
  const startMs = startAt < 0 ? 0 : (u32(startAt + 4) * 4294967296 + u32(startAt)) / 1e6;
  const genAi = spanGenAi(res, kind, startMs);
  // Duration: end - start when end is later, else 0 (unsigned 64-bit)
  const sLo = startAt < 0 ? 0 : u32(startAt);
  const sHi = startAt < 0 ? 0 : u32(startAt + 4);
  const eLo = endAt < 0 ? 0 : u32(endAt);
  const eHi = endAt < 0 ? 0 : u32(endAt + 4);
  // the borrow without a branch of its own: a low word that wraps (every 2^32 ns, ~4.3 s, of start
  // times) is rare enough to come first after the code is optimised, which it would then deoptimise
  if (eHi > sHi || (eHi === sHi && eLo > sLo)) c[12]!.u64((eLo - sLo) >>> 0, eHi - sHi - (eLo < sLo ? 1 : 0));
  else c[12]!.u64(0, 0);
  writeStatus(statusS, statusE);
  writeEvents();
  writeLinks();
  if (!byColumn) {
    c[22]!.rawRange(rv, res.tenant, res.environment);
    c[23]!.rawRange(rv, res.environment, res.end);
  }
  if (c === rowLayout) {
    if (genAi === PLAIN_SPAN) rowWriter.rawView(PLAIN_GENAI);
    else writeGenAi(rowWriter, genAi);
  } else if (genAi === PLAIN_SPAN) plainGenAiRun++;
  else {
    flushPlainGenAi();
    writeGenAiColumns(c, GENAI_FIRST, genAi);
  }
}

function writeStatus(start: number, end: number): void {
  let code = 0;
  let ms = -1;
  let me = -1;
  if (start >= 0) {
    p = start;
    while (p < end) {
      const t = tag32();
      if (t === 0x18) {
        varint64();
        code = LO | 0;
      } else if (t === 0x12) {
        const n = varint();
        ms = p;
        me = p + n;
        p = me;
      } else skip(t);
    }
  }
  cols[13]!.raw(STATUS_BYTES[code] ?? (STATUS_BYTES[0] as Buffer));
  if (ms < 0) cols[14]!.uint8(0);
  else cols[14]!.stringBytes(b, ms, me);
}

function writeEvents(): void {
  const n = eventCount;
  w = cols[15]!;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    let at = -1;
    p = eventStart[i]!;
    const end = eventEnd[i]!;
    while (p < end) {
      const t = tag32();
      if (t === 0x09) {
        at = p;
        p += 8;
      } else skip(t);
    }
    writeNanos(at);
  }
  w = cols[16]!;
  w.varint(n);
  for (let i = 0; i < n; i++) writeLastString(eventStart[i]!, eventEnd[i]!, 0x12);
  w = cols[17]!;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    attributeMap(eventStart[i]!, eventEnd[i]!, 0x1a, w);
  }
}

function writeLinks(): void {
  const n = linkCount;
  w = cols[18]!;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    const { start, end } = lastField(linkStart[i]!, linkEnd[i]!, 0x0a);
    if (start < 0) w.uint8(0);
    else writeHex(start, end);
  }
  w = cols[19]!;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    const { start, end } = lastField(linkStart[i]!, linkEnd[i]!, 0x12);
    if (start < 0) w.uint8(0);
    else writeHex(start, end);
  }
  w = cols[20]!;
  w.varint(n);
  for (let i = 0; i < n; i++) writeLastString(linkStart[i]!, linkEnd[i]!, 0x1a);
  w = cols[21]!;
  w.varint(n);
  for (let i = 0; i < n; i++) {
    attributeMap(linkStart[i]!, linkEnd[i]!, 0x22, w);
  }
}

function writeLastString(start: number, end: number, tag: number): void {
  const f = lastField(start, end, tag);
  if (f.start < 0) w.uint8(0);
  else w.stringBytes(b, f.start, f.end);
}
