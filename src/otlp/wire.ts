/**
 * Fast protobuf codec for the OTLP messages, compiled once at module load from the reflection
 * tables in ./schema.ts (the .proto files stay the single source of truth).
 *
 * Why not protobufjs' own encode/decode: its decoder `delete`s a property for every zero scalar
 * and every oneof member it sets (objects fall into slow dictionary mode) and decodes every string
 * anew. This decoder builds plain objects and serves repeated short strings (attribute keys, names)
 * from a small cache; the encoder writes in one pass into a reused scratch buffer, with a 1-byte
 * length placeholder per nested message that is widened (body moved) only for bodies ≥ 128 bytes.
 *
 * Decoding produces plain objects holding only the fields present with non-default values
 * (oneof members and proto3 `optional` fields whenever present), repeated fields always as arrays,
 * 64-bit integers as `Long` (unsigned for fixed64/uint64), bytes as Buffer views of the input.
 * Malformed input (truncation, wrong wire type for a known field, invalid UTF-8, bad field numbers,
 * nesting deeper than MAX_DEPTH) throws WireError. Unknown fields are skipped (the Collector drops
 * them too).
 *
 * Encoding writes fields in field-number order and omits proto3 defaults (zero, '', false, empty
 * bytes, empty repeated) like the Collector's otlp_proto marshaler, which also always writes its
 * non-nullable messages (FieldInfo.alwaysEmit); oneof and optional members are written whenever
 * set (own, non-null). Only the first set member of a oneof is written.
 */
import { isUtf8 } from 'node:buffer';
import type protobuf from 'protobufjs';
import { LongClass } from './ids.js';
import { type FieldInfo, INT64_KINDS, type TypeInfo, typeInfo } from './schema.js';

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export const MAX_DEPTH = 100;

export interface CompiledCodec {
  decode(bytes: Buffer): Record<string, unknown>;
  encode(message: object): Buffer;
  /** Accepts exactly what `decode` accepts (throws the same WireError), without building anything. */
  validate(bytes: Buffer): void;
  /**
   * `validate` of the message in bytes[start, end), nested `depth` levels deep in its parent (for the
   * nesting limit); error positions are offsets in `bytes`.
   */
  validateRange(bytes: Buffer, start: number, end: number, depth: number): void;
}

export interface CodecOptions {
  /**
   * Message fields (full names, `package.Type.field`) whose contents the validator leaves to the
   * caller: only their length is checked against the parent's.
   */
  shallow?: readonly string[];
  /** only validate/validateRange (much less code to compile, for a validator used alone) */
  validateOnly?: boolean;
}

const WIRE: Record<string, number> = {
  double: 1,
  float: 5,
  int32: 0,
  uint32: 0,
  sint32: 0,
  fixed32: 5,
  sfixed32: 5,
  int64: 0,
  uint64: 0,
  sint64: 0,
  fixed64: 1,
  sfixed64: 1,
  bool: 0,
  enum: 0,
  string: 2,
  bytes: 2,
  message: 2,
};

function fnName(info: TypeInfo): string {
  return info.type.fullName.replace(/^\./, '').replace(/\./g, '_');
}

function wireOf(fi: FieldInfo): number {
  const w = WIRE[fi.kind];
  if (w === undefined) throw new Error(`unsupported field type ${fi.kind}`);
  return w;
}

function isPackable(fi: FieldInfo): boolean {
  return fi.repeated && fi.kind !== 'string' && fi.kind !== 'bytes' && fi.kind !== 'message';
}

/** Names and keys repeat across items: cache them. */
const CACHED_STRING_FIELDS = new Set([
  'key',
  'name',
  'version',
  'description',
  'unit',
  'severityText',
  'eventName',
  'schemaUrl',
]);

/** Longest string (bytes) of this field kept in the decoder's string cache (0: never cached). */
function stringCacheLimit(fi: FieldInfo): number {
  if (CACHED_STRING_FIELDS.has(fi.name)) return 32;
  if (fi.name === 'stringValue') return 12; // short values (GET, 200, model names) repeat; long ones rarely do
  return 0;
}

/** JS expression reading one scalar value of this field (reader state: buf, pos, end). */
function readExpr(fi: FieldInfo): string {
  switch (fi.kind) {
    case 'string':
      return `rstr(end, ${stringCacheLimit(fi)})`;
    case 'bytes':
      return 'rbytes(end)';
    case 'bool':
      return 'rbool(end)';
    case 'double':
      return 'rdouble(end)';
    case 'float':
      return 'rfloat(end)';
    case 'int32':
    case 'enum':
      return '(rv32(end) | 0)';
    case 'uint32':
      return 'rv32(end)';
    case 'sint32':
      return 'zz32(rv32(end))';
    case 'fixed32':
      return 'rfixed32(end)';
    case 'sfixed32':
      return '(rfixed32(end) | 0)';
    case 'int64':
      return 'rv64long(end, false)';
    case 'uint64':
      return 'rv64long(end, true)';
    case 'sint64':
      return 'rsint64(end)';
    case 'fixed64':
      return 'rfixed64(end, true)';
    case 'sfixed64':
      return 'rfixed64(end, false)';
    default:
      throw new Error(`no reader for ${fi.kind}`);
  }
}

/** JS condition: value `v` of a non-presence scalar field is not its default. */
function nonDefaultCond(fi: FieldInfo): string {
  switch (fi.kind) {
    case 'string':
      return "v !== ''";
    case 'bytes':
      return 'v.length !== 0';
    case 'bool':
      return 'v !== false';
    case 'double':
    case 'float':
      return 'v !== 0';
    default:
      if (INT64_KINDS.has(fi.kind)) return '(v.low !== 0 || v.high !== 0)';
      return 'v !== 0';
  }
}

function genDecoder(info: TypeInfo): string {
  const name = fnName(info);
  const lines: string[] = [];
  const init = info.fields
    .filter((f) => f.repeated || f.alwaysSet)
    .map((f) => `${JSON.stringify(f.name)}: ${f.repeated ? '[]' : "''"}`);
  const oneofs = new Map<string, FieldInfo[]>();
  for (const fi of info.fields) {
    const f = info.type.fields[fi.name] as protobuf.Field;
    if (f.partOf && f.partOf.oneof.length > 1) {
      const list = oneofs.get(f.partOf.name) ?? [];
      list.push(fi);
      oneofs.set(f.partOf.name, list);
    }
  }
  const oneofOf = (fi: FieldInfo): string | undefined => {
    for (const [k, list] of oneofs) if (list.includes(fi)) return k;
    return undefined;
  };
  lines.push(`function d_${name}(end, depth) {`);
  lines.push(`  if (depth > ${MAX_DEPTH}) throw new WireError('message nesting deeper than ${MAX_DEPTH} levels');`);
  lines.push(`  const m = {${init.join(', ')}};`);
  for (const k of oneofs.keys()) lines.push(`  let oo_${k} = '';`);
  lines.push('  while (pos < end) {');
  lines.push('    const tag = rtag(end);');
  lines.push('    switch (tag) {');
  for (const fi of info.fields) {
    const wt = wireOf(fi);
    const tag = ((fi.id << 3) | wt) >>> 0;
    const prop = `m[${JSON.stringify(fi.name)}]`;
    const oo = oneofOf(fi);
    const setOneof = oo
      ? `if (oo_${oo} !== '' && oo_${oo} !== ${JSON.stringify(fi.name)}) delete m[oo_${oo}]; oo_${oo} = ${JSON.stringify(fi.name)}; `
      : '';
    if (fi.kind === 'message') {
      const sub = `d_${fnName(fi.message as TypeInfo)}`;
      if (fi.repeated)
        lines.push(`      case ${tag}: { const n = rlen(end); ${prop}.push(${sub}(pos + n, depth + 1)); continue; }`);
      else
        lines.push(
          `      case ${tag}: { const n = rlen(end); ${setOneof}${prop} = ${sub}(pos + n, depth + 1); continue; }`,
        );
      continue;
    }
    if (fi.repeated) {
      lines.push(`      case ${tag}: ${prop}.push(${readExpr(fi)}); continue;`);
      if (isPackable(fi)) {
        const ptag = ((fi.id << 3) | 2) >>> 0;
        lines.push(
          `      case ${ptag}: { const n = rlen(end); const a = ${prop}; { const end = pos + n; while (pos < end) a.push(${readExpr(fi)}); } continue; }`,
        );
      }
      continue;
    }
    if (fi.presence || fi.alwaysSet) {
      lines.push(`      case ${tag}: ${setOneof}${prop} = ${readExpr(fi)}; continue;`);
    } else {
      lines.push(
        `      case ${tag}: { const v = ${readExpr(fi)}; if (${nonDefaultCond(fi)}) ${prop} = v; else if (${JSON.stringify(fi.name)} in m) delete ${prop}; continue; }`,
      );
    }
  }
  lines.push('    }');
  lines.push(`    skipField(tag, end, depth, K_${name}, ${JSON.stringify(info.type.name)});`);
  lines.push('  }');
  lines.push('  if (pos !== end) throw truncated();');
  lines.push('  return m;');
  lines.push('}');
  lines.push(knownFields(info));
  return lines.join('\n');
}

/** The set of a type's field numbers (a known field with the wrong wire type is an error, not skipped). */
function knownFields(info: TypeInfo): string {
  return `const K_${fnName(info)} = new Set(${JSON.stringify(info.fields.map((f) => f.id))});`;
}

/** JS statement checking and skipping one scalar value of this field, as `readExpr` would read it. */
function skipExpr(fi: FieldInfo): string {
  switch (WIRE[fi.kind]) {
    case 0:
      return 'rv64(end);';
    case 1:
      return 'if (pos + 8 > end) throw truncated(); pos += 8;';
    case 5:
      return 'if (pos + 4 > end) throw truncated(); pos += 4;';
    default:
      // not `pos += rlen(end)`: that would add the length to pos as it was before the length was read
      return fi.kind === 'string' ? 'vstr(end);' : '{ const n = rlen(end); pos += n; }';
  }
}

/**
 * Validator: walks a message like the decoder (same wire-type, bounds, UTF-8 and depth checks) but
 * allocates nothing. Used where the bytes are forwarded as they are.
 */
function genValidator(info: TypeInfo, shallow: ReadonlySet<string>): string {
  const name = fnName(info);
  const lines: string[] = [];
  lines.push(`function v_${name}(end, depth) {`);
  lines.push(`  if (depth > ${MAX_DEPTH}) throw new WireError('message nesting deeper than ${MAX_DEPTH} levels');`);
  lines.push('  while (pos < end) {');
  lines.push('    const tag = rtag(end);');
  lines.push('    switch (tag) {');
  for (const fi of info.fields) {
    const tag = ((fi.id << 3) | wireOf(fi)) >>> 0;
    if (fi.kind === 'message') {
      lines.push(
        shallow.has(`${info.type.fullName.replace(/^\./, '')}.${fi.name}`)
          ? `      case ${tag}: { const n = rlen(end); pos += n; continue; }`
          : `      case ${tag}: { const n = rlen(end); v_${fnName(fi.message as TypeInfo)}(pos + n, depth + 1); continue; }`,
      );
      continue;
    }
    lines.push(`      case ${tag}: ${skipExpr(fi)} continue;`);
    if (isPackable(fi)) {
      const ptag = ((fi.id << 3) | 2) >>> 0;
      lines.push(
        `      case ${ptag}: { const n = rlen(end); { const end = pos + n; while (pos < end) { ${skipExpr(fi)} } } continue; }`,
      );
    }
  }
  lines.push('    }');
  lines.push(`    skipField(tag, end, depth, K_${name}, ${JSON.stringify(info.type.name)});`);
  lines.push('  }');
  lines.push('  if (pos !== end) throw truncated();');
  lines.push('}');
  return lines.join('\n');
}

function writeScalar(fi: FieldInfo, x: string): string {
  switch (fi.kind) {
    case 'double':
      return `wdouble(${x});`;
    case 'float':
      return `out.writeFloatLE(${x}, wp); wp += 4;`;
    case 'fixed64':
    case 'sfixed64':
      return `lohi(${x}); wfixed32(LO); wfixed32(HI);`;
    case 'fixed32':
    case 'sfixed32':
      return `wfixed32(${x} >>> 0);`;
    case 'bool':
      return `out[wp++] = ${x} ? 1 : 0;`;
    case 'int32':
    case 'enum':
      return `wInt32(${x});`;
    case 'uint32':
      return `wv32(${x} >>> 0);`;
    case 'sint32':
      return `wv32(((${x} << 1) ^ (${x} >> 31)) >>> 0);`;
    case 'int64':
    case 'uint64':
      return `lohi(${x}); wv64(LO, HI);`;
    case 'sint64':
      return `lohi(${x}); zz64(); wv64(LO, HI);`;
    default:
      throw new Error(`no writer for ${fi.kind}`);
  }
}

/** Single-pass writer code for one field (`m` is the message, `depth` its nesting). */
function genSingleField(fi: FieldInfo, brk = ''): string {
  const wt = wireOf(fi);
  const tag = ((fi.id << 3) | wt) >>> 0;
  const key = JSON.stringify(fi.name);
  const get = `const v = m[${key}];`;
  const T = wtag(tag);
  if (fi.repeated) {
    if (fi.kind === 'message') {
      const sub = fnName(fi.message as TypeInfo);
      return `{ ${get} if (v != null) for (let i = 0; i < v.length; i++) { if (wp + 8 > cap) grow(8); ${T} const lp = wp++; w_${sub}(v[i] ?? EMPTY, depth + 1); endLen(lp); } }`;
    }
    if (fi.kind === 'string')
      return `{ ${get} if (v != null) for (let i = 0; i < v.length; i++) { if (wp + 8 > cap) grow(8); ${T} wstr1(v[i]); } }`;
    if (fi.kind === 'bytes')
      return `{ ${get} if (v != null) for (let i = 0; i < v.length; i++) { const b = v[i]; if (typeof b !== 'object') notBytes(${key}, b); if (wp + b.length + 8 > cap) grow(b.length + 8); ${T} wv32(b.length); wbytes(b); } }`;
    const ptag = ((fi.id << 3) | 2) >>> 0;
    return `{ ${get} if (v != null && v.length !== 0) { if (wp + v.length * 10 + 8 > cap) grow(v.length * 10 + 8); ${wtag(ptag)} const lp = wp++; for (let i = 0; i < v.length; i++) { ${writeScalar(fi, 'v[i]')} } endLen(lp); } }`;
  }
  if (fi.kind === 'message' && fi.alwaysEmit) {
    const sub = fnName(fi.message as TypeInfo);
    return `{ const v = m[${key}] ?? EMPTY; if (wp + 8 > cap) grow(8); ${T} const lp = wp++; w_${sub}(v, depth + 1); endLen(lp); }`;
  }
  const present = fi.presence
    ? `v != null && hasOwn.call(m, ${key})`
    : fi.kind === 'message'
      ? 'v != null'
      : INT64_KINDS.has(fi.kind)
        ? 'v != null && !i64zero(v)'
        : fi.kind === 'bytes'
          ? 'v != null && v.length !== 0'
          : `v != null && ${nonDefaultCond(fi)}`;
  if (fi.kind === 'message') {
    const sub = fnName(fi.message as TypeInfo);
    return `{ ${get} if (${present}) { if (wp + 8 > cap) grow(8); ${T} const lp = wp++; w_${sub}(v, depth + 1); endLen(lp); ${brk} } }`;
  }
  if (fi.kind === 'string') return `{ ${get} if (${present}) { if (wp + 8 > cap) grow(8); ${T} wstr1(v); ${brk} } }`;
  if (fi.kind === 'bytes')
    return `{ ${get} if (${present}) { if (typeof v !== 'object') notBytes(${key}, v); if (wp + v.length + 8 > cap) grow(v.length + 8); ${T} wv32(v.length); wbytes(v); ${brk} } }`;
  return `{ ${get} if (${present}) { if (wp + 16 > cap) grow(16); ${T} ${writeScalar(fi, 'v')} ${brk} } }`;
}

/**
 * Encoder statements for all fields in field-number order. Members of a oneof whose fields are
 * contiguous in that order (AnyValue.value, Metric.data) share a labelled block left at the first
 * member found set, so a string attribute costs one check instead of seven.
 */
function genEncoderFields(info: TypeInfo): string {
  const out: string[] = [];
  const fields = info.fields;
  for (let i = 0; i < fields.length; ) {
    const fi = fields[i] as FieldInfo;
    const f = info.type.fields[fi.name] as protobuf.Field;
    const group = f.partOf && f.partOf.oneof.length > 1 ? f.partOf : null;
    if (group) {
      let j = i;
      while (j < fields.length && group.oneof.includes((fields[j] as FieldInfo).name)) j++;
      if (j - i === group.oneof.length) {
        const label = `oo_${group.name}`;
        const body = fields.slice(i, j).map((m) => genSingleField(m, `break ${label};`));
        out.push(`  ${label}: {\n    ${body.join('\n    ')}\n  }`);
        i = j;
        continue;
      }
    }
    out.push(`  ${genSingleField(fi)}`);
    i++;
  }
  return out.join('\n');
}

function genEncoder(info: TypeInfo): string {
  const name = fnName(info);
  return [
    `function w_${name}(m, depth) {`,
    `  if (depth > ${MAX_DEPTH}) throw new WireError('message nesting deeper than ${MAX_DEPTH} levels');`,
    genEncoderFields(info),
    '}',
  ].join('\n');
}

/** JS statements writing a constant tag varint byte by byte. */
function wtag(tag: number): string {
  const bytes: number[] = [];
  let v = tag;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return bytes.map((b) => `out[wp++] = ${b};`).join(' ');
}

/** Runtime helpers shared by the generated functions (reader state: buf/pos; writer: out/wp). */
const RUNTIME = String.raw`
let buf = null, pos = 0, out = null, wp = 0, LO = 0, HI = 0;
let cap = 0, scratch = Buffer.allocUnsafe(1 << 20);
function grow(n) { let c = out.length * 2; while (c < wp + n) c *= 2; const a = Buffer.allocUnsafe(c); out.copy(a, 0, 0, wp); out = a; cap = c; }
// Ends a length-delimited field whose 1-byte length placeholder is at lp: bodies of 128 bytes or
// more move right to make room for the longer varint.
function endLen(lp) {
  const len = wp - lp - 1;
  if (len < 0x80) { out[lp] = len; return; }
  const k = vlen(len) - 1;
  if (wp + k > cap) grow(k);
  out.copyWithin(lp + 1 + k, lp + 1, wp);
  wp += k;
  let p = lp, v = len;
  while (v > 0x7f) { out[p++] = (v & 0x7f) | 0x80; v >>>= 7; }
  out[p] = v;
}
function wstr1(s) {
  if (typeof s !== 'string') throw new TypeError('expected a string, got ' + typeof s);
  const n = s.length;
  if (n < 43) { // at most 3 bytes per UTF-16 unit: the length fits the 1-byte placeholder
    if (wp + 3 * n + 1 > cap) grow(3 * n + 1);
    const lp = wp++;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) { wp = lp + 1; const bl = out.utf8Write(s, wp); wp += bl; out[lp] = bl; return; }
      out[wp++] = c;
    }
    out[lp] = n;
    return;
  }
  const bl = Buffer.byteLength(s, 'utf8');
  if (wp + bl + 5 > cap) grow(bl + 5);
  wv32(bl);
  if (bl === n && n < 256) { for (let i = 0; i < n; i++) out[wp + i] = s.charCodeAt(i); wp += n; return; }
  wp += out.utf8Write(s, wp, bl);
}
const hasOwn = Object.prototype.hasOwnProperty;
const EMPTY = {};
function truncated() { return new WireError('truncated message or length past the end of its parent (at byte ' + pos + ')'); }
function rv32(end) {
  let b = buf[pos++];
  if (b < 0x80 && pos <= end) return b;
  if (pos > end) { pos--; throw truncated(); }
  let v = b & 0x7f;
  for (let shift = 7; shift < 70; shift += 7) {
    if (pos >= end) throw truncated();
    b = buf[pos++];
    if (shift < 32) v |= (b & 0x7f) << shift;
    if (b < 0x80) return v >>> 0;
  }
  throw new WireError('varint longer than 10 bytes');
}
// A tag or a length is a varint that must fit 32 bits. Reading just its low 32 bits (as rv32 does for
// int32 values, whose negatives take 10 bytes) would accept what Go's protowire refuses, and code that
// walks validated bytes with full-width varints (raw-traces.ts, the loader's span encoder) would then
// read a different length than the one checked here: past the message, and in a loop without end.
function ru32(end, what) {
  let b = buf[pos++];
  if (b < 0x80 && pos <= end) return b;
  if (pos > end) { pos--; throw truncated(); }
  const start = pos - 1;
  let v = b & 0x7f;
  let wide = 0; // payload bits past 32
  for (let shift = 7; shift < 70; shift += 7) {
    if (pos >= end) throw truncated();
    b = buf[pos++];
    if (shift < 28) v |= (b & 0x7f) << shift;
    else if (shift === 28) { v |= (b & 0x0f) << 28; wide |= b & 0x70; }
    else wide |= b & 0x7f;
    if (b < 0x80) {
      if (wide !== 0) throw new WireError(what + ' wider than 32 bits (at byte ' + start + ')');
      return v >>> 0;
    }
  }
  throw new WireError('varint longer than 10 bytes');
}
function rtag(end) { return ru32(end, 'field tag'); }
function rv64(end) {
  let lo = 0, hi = 0, b = 0, i = 0;
  for (; i < 4; i++) {
    if (pos >= end) throw truncated();
    b = buf[pos++]; lo = (lo | ((b & 0x7f) << (i * 7))) >>> 0;
    if (b < 0x80) { LO = lo; HI = 0; return; }
  }
  if (pos >= end) throw truncated();
  b = buf[pos++];
  lo = (lo | ((b & 0x7f) << 28)) >>> 0; hi = (b & 0x7f) >> 4;
  if (b < 0x80) { LO = lo; HI = hi; return; }
  for (i = 0; i < 5; i++) {
    if (pos >= end) throw truncated();
    b = buf[pos++]; hi = (hi | ((b & 0x7f) << (i * 7 + 3))) >>> 0;
    if (b < 0x80) { LO = lo; HI = hi; return; }
  }
  throw new WireError('varint longer than 10 bytes');
}
function rv64long(end, unsigned) { rv64(end); return new Long(LO | 0, HI | 0, unsigned); }
function rsint64(end) { rv64(end); const neg = LO & 1; LO = ((LO >>> 1) | (HI << 31)) >>> 0; HI = HI >>> 1; if (neg) { LO = ~LO >>> 0; HI = ~HI >>> 0; } return new Long(LO | 0, HI | 0, false); }
function rbool(end) { rv64(end); return LO !== 0 || HI !== 0; }
function zz32(n) { return (n >>> 1) ^ -(n & 1); }
function rlen(end) { const n = ru32(end, 'length'); if (n > end - pos) throw truncated(); return n; }
function rfixed32(end) { if (pos + 4 > end) throw truncated(); const v = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0; pos += 4; return v; }
function rfixed64(end, unsigned) { if (pos + 8 > end) throw truncated(); const lo = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24); const hi = buf[pos + 4] | (buf[pos + 5] << 8) | (buf[pos + 6] << 16) | (buf[pos + 7] << 24); pos += 8; return new Long(lo, hi, unsigned); }
function rdouble(end) { if (pos + 8 > end) throw truncated(); const v = buf.readDoubleLE(pos); pos += 8; return v; }
function rfloat(end) { if (pos + 4 > end) throw truncated(); const v = buf.readFloatLE(pos); pos += 4; return v; }
function rbytes(end) { const n = rlen(end); const s = pos; pos += n; return buf.subarray(s, pos); }
// Direct-mapped cache of short strings (attribute keys and common values repeat across spans):
// a hit costs one hash and one byte comparison instead of allocating a new string.
const SC_SLOTS = 4096, SC_WIDTH = 32;
const scBytes = new Uint8Array(SC_SLOTS * SC_WIDTH), scLen = new Int32Array(SC_SLOTS).fill(-1), scStr = new Array(SC_SLOTS).fill('');
function rstr(end, cacheMax) {
  const n = rlen(end); const s = pos; const e = s + n; pos = e;
  if (n === 0) return '';
  if (n > cacheMax) {
    if (n < 64) { for (let i = s; i < e; i++) if (buf[i] >= 0x80) return utf8(s, e); return buf.latin1Slice(s, e); }
    return utf8(s, e);
  }
  let h = n, ascii = 0;
  for (let i = s; i < e; i++) { const c = buf[i]; ascii |= c; h = Math.imul(h ^ c, 0x01000193); }
  const slot = (h ^ (h >>> 15)) & (SC_SLOTS - 1), base = slot * SC_WIDTH;
  if (scLen[slot] === n) {
    let j = 0;
    while (j < n && scBytes[base + j] === buf[s + j]) j++;
    if (j === n) return scStr[slot];
  }
  const str = ascii < 0x80 ? buf.latin1Slice(s, e) : utf8(s, e);
  for (let j = 0; j < n; j++) scBytes[base + j] = buf[s + j];
  scLen[slot] = n; scStr[slot] = str;
  return str;
}
function vstr(end) {
  const n = rlen(end); const s = pos; const e = s + n; pos = e;
  if (n < 64) { let i = s; while (i < e && buf[i] < 0x80) i++; if (i === e) return; }
  if (!isUtf8(buf.subarray(s, e))) { pos = s; throw new WireError('invalid UTF-8 in a string field (at byte ' + s + ')'); }
}
function utf8(s, e) {
  const r = buf.utf8Slice(s, e);
  if (r.indexOf('\uFFFD') !== -1 && !isUtf8(buf.subarray(s, e))) { pos = s; throw new WireError('invalid UTF-8 in a string field (at byte ' + s + ')'); }
  return r;
}
function skipField(tag, end, depth, known, typeName) {
  const field = tag >>> 3, wt = tag & 7;
  if (field === 0) throw new WireError('invalid field number 0 in ' + typeName);
  if (known.has(field)) throw new WireError('wrong wire type ' + wt + ' for field ' + field + ' of ' + typeName);
  skipValue(wt, field, end, depth);
}
function skipValue(wt, field, end, depth) {
  switch (wt) {
    case 0: rv64(end); return;
    case 1: if (pos + 8 > end) throw truncated(); pos += 8; return;
    case 2: { const n = rlen(end); pos += n; return; }
    case 5: if (pos + 4 > end) throw truncated(); pos += 4; return;
    case 3: {
      if (depth > ${MAX_DEPTH}) throw new WireError('group nesting deeper than ${MAX_DEPTH} levels');
      for (;;) {
        if (pos >= end) throw truncated();
        const t = rtag(end);
        if ((t & 7) === 4) { if ((t >>> 3) !== field) throw new WireError('mismatched end group'); return; }
        if ((t >>> 3) === 0) throw new WireError('invalid field number 0');
        skipValue(t & 7, t >>> 3, end, depth + 1);
      }
    }
    default: throw new WireError('invalid wire type ' + wt + ' (field ' + field + ')');
  }
}
function notBytes(name, v) { throw new TypeError('bytes field ' + name + ' must be a Uint8Array, got ' + typeof v); }
function vlen(v) { return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5; }
function lohi(v) {
  if (typeof v === 'object') { LO = v.low >>> 0; HI = v.high >>> 0; return; }
  if (typeof v === 'number') {
    if (v >= 0 && v < 4294967296) { LO = v >>> 0; HI = 0; return; }
    const l = Long.fromNumber(v); LO = l.low >>> 0; HI = l.high >>> 0; return;
  }
  if (typeof v === 'bigint') { const u = BigInt.asUintN(64, v); LO = Number(u & 0xffffffffn); HI = Number(u >> 32n); return; }
  if (typeof v === 'string') {
    const t = v.trim();
    if (!/^[-+]?\d+$/.test(t)) throw new TypeError('not a decimal 64-bit integer: ' + JSON.stringify(v));
    const u = BigInt.asUintN(64, BigInt(t)); LO = Number(u & 0xffffffffn); HI = Number(u >> 32n); return;
  }
  throw new TypeError('not a 64-bit integer: ' + String(v));
}
function i64zero(v) { if (typeof v === 'object') return v.low === 0 && v.high === 0; if (typeof v === 'number') return v === 0; lohi(v); return LO === 0 && HI === 0; }
function zz64() { const sign = HI >> 31; HI = (((HI << 1) | (LO >>> 31)) ^ sign) >>> 0; LO = ((LO << 1) ^ sign) >>> 0; }
function wv32(v) { while (v > 0x7f) { out[wp++] = (v & 0x7f) | 0x80; v >>>= 7; } out[wp++] = v; }
function wv64(lo, hi) {
  while (hi !== 0) { out[wp++] = (lo & 0x7f) | 0x80; lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; }
  wv32(lo);
}
function wInt32(v) { if (v < 0) wv64(v >>> 0, 0xffffffff); else wv32(v); }
function wfixed32(v) { out[wp] = v & 0xff; out[wp + 1] = (v >>> 8) & 0xff; out[wp + 2] = (v >>> 16) & 0xff; out[wp + 3] = v >>> 24; wp += 4; }
// NaN as one bit pattern (the quiet NaN 0x7ff8000000000000, JavaScript's own): V8 may or may not keep
// a decoded NaN's payload, depending on how the number travelled, and encoding must be a fixed point
function wdouble(v) { if (v !== v) { out.writeUInt32LE(0, wp); out.writeUInt32LE(0x7ff80000, wp + 4); } else out.writeDoubleLE(v, wp); wp += 8; }
function wbytes(b) {
  const n = b.length;
  if (n < 32) { for (let i = 0; i < n; i++) out[wp + i] = b[i]; wp += n; return; }
  out.set(b, wp); wp += n;
}
`;

/** JS source of the codec for `root` and every message type reachable from it (for debugging). */
export function generateCodecSource(root: protobuf.Type, opts: CodecOptions = {}): string {
  const shallow = new Set(opts.shallow ?? []);
  const infos: TypeInfo[] = [];
  const seen = new Set<TypeInfo>();
  const visit = (info: TypeInfo): void => {
    if (seen.has(info)) return;
    seen.add(info);
    infos.push(info);
    for (const f of info.fields) if (f.message) visit(f.message);
  };
  visit(typeInfo(root));
  const rootName = fnName(typeInfo(root));
  const validators = infos.map((info) => genValidator(info, shallow));
  const validateMethods = `  validate(bytes) {
    buf = bytes; pos = 0;
    try { v_${rootName}(bytes.length, 0); } finally { buf = null; }
  },
  validateRange(bytes, start, end, depth) {
    buf = bytes; pos = start;
    try { v_${rootName}(end, depth); } finally { buf = null; }
  },`;
  if (opts.validateOnly)
    return [
      RUNTIME,
      ...infos.map(knownFields),
      ...validators,
      `const validateOnly = () => { throw new Error('compiled with validateOnly'); };
return {
  decode: validateOnly,
  encode: validateOnly,
${validateMethods}
};`,
    ].join('\n');
  return [
    RUNTIME,
    ...infos.map(genDecoder),
    ...infos.map(genEncoder),
    ...validators,
    `return {
  decode(bytes) {
    buf = bytes; pos = 0;
    try { return d_${rootName}(bytes.length, 0); } finally { buf = null; }
  },
${validateMethods}
  encode(m) {
    out = scratch; cap = out.length; wp = 0;
    try {
      w_${rootName}(m, 0);
      const res = Buffer.allocUnsafe(wp);
      out.copy(res, 0, 0, wp);
      return res;
    } finally {
      if (out.length <= (1 << 24)) scratch = out;
      out = null;
    }
  },
};`,
  ].join('\n');
}

/** Compiles decode/encode/validate functions for `root` and every message type reachable from it. */
export function compileCodec(root: protobuf.Type, opts: CodecOptions = {}): CompiledCodec {
  const src = generateCodecSource(root, opts);
  const factory = new Function('WireError', 'Long', 'isUtf8', 'Buffer', src) as (...args: unknown[]) => CompiledCodec;
  return factory(WireError, LongClass, isUtf8, Buffer);
}
