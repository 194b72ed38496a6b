/**
 * ClickHouse RowBinary: each row is its columns' values back to back, in the order the INSERT names
 * them, without separators. Strings are a LEB128 length and their bytes; integers and floats
 * little-endian; DateTime64(9) an Int64 of nanoseconds; LowCardinality(T) is written as T;
 * Array(T) and Map(K, V) a LEB128 count followed by the elements (key, value, key, value…).
 * https://clickhouse.com/docs/interfaces/formats/RowBinary
 *
 * ClickHouse parses it far more cheaply than JSONEachRow (no quoting, escapes or number text) and
 * the loader writes it straight from the protobuf wire bytes.
 */

/** One column an encoder writes: its name in the table and its ClickHouse type, as DESCRIBE prints it. */
export interface Column {
  name: string;
  type: string;
}

/**
 * A growable output buffer for RowBinary rows: `take()` copies the rows out and the buffer is reused;
 * `begin()` … `detach()` hands the buffer itself over (see releaseRows).
 */
export class RowBinaryWriter {
  buf: Buffer;
  /** `buf` as a DataView (whole-word copies: see copyBytes) */
  view: DataView;
  pos = 0;
  /** `buf` was handed over by detach(): begin() must not write into it */
  private detached = false;

  constructor(initialBytes = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.view = viewOf(this.buf);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = viewOf(next);
  }

  /** Starts rows to be handed over with detach(), in a buffer of `bytes` (up to twice that) not handed over before. */
  begin(bytes: number): void {
    if (this.detached || this.buf.length < bytes || this.buf.length > 2 * bytes) {
      this.buf = rowsBuffer(bytes);
      this.view = viewOf(this.buf);
      this.detached = false;
    }
    this.pos = 0;
  }

  /**
   * The rows written since begin(): the buffer itself when they fill at least half of it (no copy;
   * the next begin() takes a new one), else a copy of just them.
   */
  detach(): Buffer {
    if (this.pos < this.buf.length >>> 1) return this.take();
    const out = this.buf.subarray(0, this.pos);
    this.detached = true;
    this.pos = 0;
    return out;
  }

  /** The rows written since the last take, as their own buffer; the writer starts over. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }

  /** LEB128, as RowBinary writes lengths and counts (n ≥ 0, below 2^53). */
  varint(n: number): void {
    this.ensure(10);
    const b = this.buf;
    while (n > 0x7f) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    b[this.pos++] = n;
  }

  string(s: string): void {
    const n = s.length;
    if (n < 128) {
      // one length byte, ASCII copied char by char; anything else through the UTF-8 encoder
      this.ensure(n + 1);
      const b = this.buf;
      const lp = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[lp + 1 + i] = c;
      }
      if (i === n) {
        b[lp] = n;
        this.pos = lp + 1 + n;
        return;
      }
    }
    const len = Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  /** A String column whose bytes are `src[start, end)` (already valid UTF-8). */
  stringBytes(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.varint(n);
    this.raw(src, start, end);
  }

  /** The bytes of a view as they are (word copies: for the columns repeated in every row). */
  rawView(src: DataView): void {
    const n = src.byteLength;
    this.ensure(n + 3);
    copyBytes(src, n, 0, n, this.view, this.pos);
    this.pos += n;
  }

  /** Bytes [start, end) of a view as they are (word copies, as rawView). */
  rawRange(src: DataView, start: number, end: number): void {
    const n = end - start;
    this.ensure(n + 3);
    copyBytes(src, src.byteLength, start, end, this.view, this.pos);
    this.pos += n;
  }

  /** Bytes [start, end) of a view, `n` times over (a column's value for a run of rows). */
  repeatRange(src: DataView, start: number, end: number, n: number): void {
    const len = end - start;
    if (len <= 0 || n <= 0) return;
    this.ensure(len * n + 3);
    const at = this.pos;
    copyBytes(src, src.byteLength, start, end, this.view, at);
    if (n > 1) this.buf.fill(this.buf.subarray(at, at + len), at + len, at + len * n);
    this.pos = at + len * n;
  }

  /** Bytes as they are. */
  raw(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    const b = this.buf;
    if (n < 32) {
      let o = this.pos;
      for (let i = start; i < end; i++) b[o++] = src[i] as number;
    } else b.set(src.subarray(start, end), this.pos);
    this.pos += n;
  }

  uint8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  /** 64 bits from two 32-bit halves (unsigned or two's complement alike). */
  u64(lo: number, hi: number): void {
    this.ensure(8);
    const o = this.pos;
    // two word stores (DataView: no Smi speculation on halves past 2^31, which deoptimised the byte stores)
    this.view.setUint32(o, lo >>> 0, true);
    this.view.setUint32(o + 4, hi >>> 0, true);
    this.pos = o + 8;
  }

  /** An integer as UInt64: negative as 0, beyond 2^64 − 1 as 2^64 − 1 (JS numbers above 2^53 are already rounded). */
  uint64(n: number): void {
    if (n >= 0 && n < 4294967296) {
      this.u64(n >>> 0, 0); // the common case: one word (>>> 0 truncates, as Math.trunc does here)
      return;
    }
    const v = n > 0 ? Math.trunc(n) : 0;
    if (v >= 2 ** 64) this.u64(0xffffffff, 0xffffffff);
    else this.u64(v % 4294967296, Math.floor(v / 4294967296));
  }

  int64(n: number): void {
    const v = Math.trunc(n);
    if (v >= 0) {
      this.uint64(v);
      return;
    }
    const u = BigInt.asUintN(64, BigInt(v));
    this.u64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  uint32(n: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, n >>> 0, true);
    this.pos += 4;
  }

  float64(d: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, d, true);
    this.pos += 8;
  }
}

// ---- buffers of detached rows, reused once the rows are inserted ----
// Each message's rows are written to a buffer of their own and handed over uncopied (detach). Big
// allocations come from the OS as fresh pages each time, and their turnover is what starts most of a
// loader's garbage collections: the loader gives each buffer back once its rows are in ClickHouse
// (releaseRows), and the next messages are written to those.
const POOL_SIZE = 64;
const pool: ArrayBuffer[] = [];
/** buffers handed out by rowsBuffer and not given back: only these may return to the pool (once) */
const outstanding = new WeakSet<ArrayBuffer>();

/** A buffer for about `bytes` of rows (give it back with releaseRows): a released one of that size (up to twice it), else a new one. */
export function rowsBuffer(bytes: number): Buffer {
  let ab: ArrayBuffer | undefined;
  for (let i = pool.length - 1; i >= 0; i--) {
    const x = pool[i] as ArrayBuffer;
    if (x.byteLength >= bytes && x.byteLength <= 2 * bytes) {
      ab = x;
      pool.splice(i, 1);
      break;
    }
  }
  ab ??= Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer; // its own ArrayBuffer, never a shared slab
  outstanding.add(ab);
  return Buffer.from(ab);
}

/**
 * Gives back the buffer of rows from RowBinaryWriter.detach() once nothing reads them any more (their
 * insert succeeded). Anything else, or a buffer given back before, is ignored.
 */
export function releaseRows(rows: Buffer): void {
  const ab = rows.buffer as ArrayBuffer;
  if (rows.byteOffset !== 0 || !outstanding.delete(ab)) return;
  if (pool.length < POOL_SIZE) pool.push(ab);
}

/** A DataView of exactly a Buffer's bytes. */
export function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** The low `n` bytes (1..3) of a little-endian word. */
const TAIL_MASK = [0, 0xff, 0xffff, 0xffffff];

/**
 * Copies src[from, to) to out at `at`, four bytes at a time (DataView reads and writes of unaligned
 * words compile to single loads and stores: about three times faster than a loop over bytes for the
 * short strings of attributes); returns the OR of the bytes copied (ASCII when no 0x80 bit is set).
 * The last 1–3 bytes go as a whole word too when src has 3 more bytes after them (`srcLength`: its
 * byteLength, passed in because reading a DataView's byteLength is a call): up to 3 bytes past the
 * end of the copy in `out` are overwritten (the caller has that room and writes there next).
 */
export function copyBytes(
  src: DataView,
  srcLength: number,
  from: number,
  to: number,
  out: DataView,
  at: number,
): number {
  let bits = 0;
  let i = from;
  let o = at;
  for (; i + 4 <= to; i += 4, o += 4) {
    const x = src.getUint32(i, true);
    out.setUint32(o, x, true);
    bits |= x;
  }
  if (i === to) return bits;
  if (i + 4 <= srcLength) {
    const x = src.getUint32(i, true);
    out.setUint32(o, x, true);
    return bits | (x & (TAIL_MASK[to - i] as number));
  }
  for (; i < to; i++, o++) {
    const x = src.getUint8(i);
    out.setUint8(o, x);
    bits |= x;
  }
  return bits;
}

/** Whether a[aFrom, aFrom + (to - from)) equals b[from, to), four bytes at a time (lengths: the views' byteLength). */
export function sameBytes(
  a: DataView,
  aLength: number,
  aFrom: number,
  b: DataView,
  bLength: number,
  from: number,
  to: number,
): boolean {
  let i = from;
  let j = aFrom;
  for (; i + 4 <= to; i += 4, j += 4) if (a.getUint32(j, true) !== b.getUint32(i, true)) return false;
  if (i === to) return true;
  if (i + 4 <= bLength && j + 4 <= aLength)
    return ((a.getUint32(j, true) ^ b.getUint32(i, true)) & (TAIL_MASK[to - i] as number)) === 0;
  for (; i < to; i++, j++) if (a.getUint8(j) !== b.getUint8(i)) return false;
  return true;
}

const SCALAR_EXPRESSIONS: Record<string, (v: string) => string> = {
  String: (v) => `w.string(${v} == null ? '' : String(${v}));`,
  UInt8: (v) => `w.uint8(typeof ${v} === 'number' ? ${v} : Number(${v} ?? 0));`,
  Bool: (v) => `w.uint8(${v} ? 1 : 0);`,
  UInt32: (v) => `w.uint32(typeof ${v} === 'number' ? ${v} : Number(${v} ?? 0));`,
  UInt64: (v) => `w.uint64(typeof ${v} === 'number' ? ${v} : Number(${v} ?? 0));`,
  Int64: (v) => `w.int64(typeof ${v} === 'number' ? ${v} : Number(${v} ?? 0));`,
  Float64: (v) => `w.float64(typeof ${v} === 'number' ? ${v} : Number(${v} ?? 0));`,
};

/** The statements writing property `name` of `o` to `w` as the column's type says (throws for a type it cannot write). */
function columnStatements(c: Column): string[] {
  const inner = /^LowCardinality\((.+)\)$/.exec(c.type)?.[1] ?? c.type;
  const expr = SCALAR_EXPRESSIONS[inner];
  if (expr === undefined) throw new Error(`no RowBinary writer for ClickHouse type ${c.type}`);
  return [`v = o[${JSON.stringify(c.name)}];`, expr('v')];
}

/**
 * One function writing an object's properties named like `columns`, in order, as their types say:
 * String, LowCardinality(String), Bool, UInt8, UInt32, UInt64, Int64, Float64 (null as '' or 0).
 * Generated, so a row costs no call per column; throws for any other type, so a column declared
 * with a type the encoder cannot write fails at start, not in a row.
 */
export function compileObjectWriter(columns: readonly Column[]): (w: RowBinaryWriter, o: object) => void {
  const lines = ['let v;', ...columns.flatMap(columnStatements)];
  return new Function('w', 'o', lines.join('\n')) as (w: RowBinaryWriter, o: object) => void;
}

/**
 * Like compileObjectWriter, but each column's value to a writer of its own: column i to writers[at + i]
 * (the span encoder's layout 'columns'). One function for all the columns: one compilation, one call.
 */
export function compileColumnsWriter(
  columns: readonly Column[],
): (writers: readonly RowBinaryWriter[], at: number, o: object) => void {
  const lines = ['let v;', 'let w;', ...columns.flatMap((c, i) => [`w = writers[at + ${i}];`, ...columnStatements(c)])];
  return new Function('writers', 'at', 'o', lines.join('\n')) as (
    writers: readonly RowBinaryWriter[],
    at: number,
    o: object,
  ) => void;
}

/** `INSERT INTO db.table (col, …) FORMAT RowBinary`: the columns named, so their order is explicit. */
export function rowBinaryInsert(database: string, table: string, columns: readonly Column[]): string {
  return `INSERT INTO ${database}.${table} (${columns.map((c) => `\`${c.name}\``).join(', ')}) FORMAT RowBinary`;
}

/** The INSERT of Native blocks (they name their columns). */
export function nativeInsert(database: string, table: string): string {
  return `INSERT INTO ${database}.${table} FORMAT Native`;
}
