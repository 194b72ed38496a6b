/**
 * Traces kept as their encoded spans, for pipelines that change nothing in them.
 *
 * When a traces pipeline has no transforming processor, decoding every attribute into objects and
 * encoding it again is most of the receiver's work (and garbage). `scanTraces` instead validates the
 * request exactly as decodeProtobuf would (same errors, no allocation) and indexes its three outer
 * levels: each span stays a view of its bytes in the body, with its trace id at hand for validation
 * and partitioning. Resources and scopes stay encoded too. `encodeRawTraces` writes the pieces back
 * as an ExportTraceServiceRequest: span bytes as received, resource and scope always written (as the
 * Collector's marshaler does), unknown fields of the outer levels dropped (as decoding does).
 *
 * The shape mirrors the decoded model (resourceSpans → scopeSpans → spans with traceId), so the
 * splitting helpers in ../kafka/split.ts work on both.
 */
import { type PartialSuccess, Rejections, validateProtobuf } from './codec.js';
import { ITEM_NOUN } from './schema.js';

export interface RawSpan {
  /** the encoded Span message (a view of the request body) */
  bytes: Buffer;
  traceId: Buffer;
}
export interface RawScopeSpans {
  /** the encoded InstrumentationScope, when sent */
  scope?: Buffer | null;
  spans: RawSpan[];
  schemaUrl?: string | null;
}
export interface RawResourceSpans {
  /** the encoded Resource, when sent */
  resource?: Buffer | null;
  scopeSpans: RawScopeSpans[];
  schemaUrl?: string | null;
}
export interface RawTraces {
  resourceSpans: RawResourceSpans[];
}

export interface ScannedTraces {
  traces: RawTraces;
  /** spans in the request, valid or not */
  total: number;
  /** spans removed for bad ids, as validateAndPrune reports them */
  partial: PartialSuccess;
}

const LEN = 2;

/** Reads the outer levels of an already validated message: every length fits, no varint overflows. */
class OuterReader {
  pos: number;
  constructor(
    public buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++];
      // validated bytes end no varint past the body; should the scan ever disagree with validation,
      // this fails the request rather than reading `undefined` for ever
      if (b === undefined) throw new RangeError('raw traces: a varint runs past the end of the body');
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }
  /** value bounds of the last length-delimited field read by `len()` */
  start = 0;
  end = 0;
  /** Reads a length-delimited value's bounds into start/end and moves past it. */
  len(): void {
    const n = this.varint();
    this.start = this.pos;
    this.pos += n;
    this.end = this.pos;
  }
  skip(wireType: number, field: number): void {
    switch (wireType) {
      case 0:
        while ((this.buf[this.pos++] as number) >= 0x80);
        return;
      case 1:
        this.pos += 8;
        return;
      case LEN:
        this.len();
        return;
      case 5:
        this.pos += 4;
        return;
      case 3:
        for (;;) {
          const tag = this.varint();
          if ((tag & 7) === 4 && tag >>> 3 === field) return;
          this.skip(tag & 7, tag >>> 3);
        }
      default:
        throw new Error(`unexpected wire type ${wireType} in a validated message`);
    }
  }
}

/**
 * Validates an ExportTraceServiceRequest (throws OtlpDecodeError like decodeProtobuf) and indexes it,
 * leaving out spans with invalid ids (counted in `partial`, with validateAndPrune's messages) and the
 * scopes and resources left without spans.
 */
export function scanTraces(body: Buffer): ScannedTraces {
  validateProtobuf('traces', body);
  const rejections = new Rejections();
  const resourceSpans: RawResourceSpans[] = [];
  let total = 0;
  const r = new OuterReader(body, 0);
  while (r.pos < body.length) {
    const tag = r.varint();
    if (tag !== ((1 << 3) | LEN)) {
      r.skip(tag & 7, tag >>> 3);
      continue;
    }
    r.len();
    const rs: RawResourceSpans = { scopeSpans: [] };
    const rsEnd = r.end;
    const rr = new OuterReader(body, r.start);
    while (rr.pos < rsEnd) {
      const t = rr.varint();
      if (t === ((1 << 3) | LEN)) {
        rr.len();
        rs.resource = body.subarray(rr.start, rr.end);
      } else if (t === ((2 << 3) | LEN)) {
        rr.len();
        const ss = scanScopeSpans(body, rr.start, rr.end, rejections);
        total += ss.seen;
        if (ss.scope.spans.length > 0) rs.scopeSpans.push(ss.scope);
      } else if (t === ((3 << 3) | LEN)) {
        rr.len();
        rs.schemaUrl = body.toString('utf8', rr.start, rr.end);
      } else rr.skip(t & 7, t >>> 3);
    }
    if (rs.scopeSpans.length > 0) resourceSpans.push(rs);
  }
  return {
    traces: { resourceSpans },
    total,
    partial: { rejected: rejections.count, message: rejections.message(ITEM_NOUN.traces) },
  };
}

function scanScopeSpans(
  body: Buffer,
  start: number,
  end: number,
  rejections: Rejections,
): { scope: RawScopeSpans; seen: number } {
  const scope: RawScopeSpans = { spans: [] };
  let seen = 0;
  const r = new OuterReader(body, start);
  while (r.pos < end) {
    const t = r.varint();
    if (t === ((1 << 3) | LEN)) {
      r.len();
      scope.scope = body.subarray(r.start, r.end);
    } else if (t === ((2 << 3) | LEN)) {
      r.len();
      seen++;
      const spanStart = r.start;
      const spanEnd = r.end;
      const problem = spanIdProblem(body, spanStart, spanEnd, ids);
      if (problem === undefined)
        scope.spans.push({
          bytes: body.subarray(spanStart, spanEnd),
          traceId: body.subarray(ids.trace, ids.trace + 16),
        });
      else rejections.add(problem);
    } else if (t === ((3 << 3) | LEN)) {
      r.len();
      scope.schemaUrl = body.toString('utf8', r.start, r.end);
    } else r.skip(t & 7, t >>> 3);
  }
  return { scope, seen };
}

/** Where the ids of the span being checked start (-1: absent) and their lengths; reused across spans. */
interface IdBounds {
  trace: number;
  traceLength: number;
  span: number;
  spanLength: number;
  parentLength: number;
}
const ids: IdBounds = { trace: -1, traceLength: 0, span: -1, spanLength: 0, parentLength: 0 };
/** reader of spanIdProblem, reused: it runs once per span */
const NO_BYTES = Buffer.alloc(0);
const idReader = new OuterReader(NO_BYTES, 0);

/**
 * spanProblem (codec.ts) on the encoded span: trace_id (1), span_id (2), parent_span_id (4), the
 * last occurrence winning as in decoding. Reads the bounds into `out`; allocates nothing.
 */
function spanIdProblem(body: Buffer, start: number, end: number, out: IdBounds): string | undefined {
  out.trace = -1;
  out.traceLength = 0;
  out.span = -1;
  out.spanLength = 0;
  out.parentLength = 0;
  const r = idReader;
  r.buf = body;
  r.pos = start;
  while (r.pos < end) {
    const t = r.varint();
    if (t === ((1 << 3) | LEN)) {
      r.len();
      out.trace = r.start;
      out.traceLength = r.end - r.start;
    } else if (t === ((2 << 3) | LEN)) {
      r.len();
      out.span = r.start;
      out.spanLength = r.end - r.start;
    } else if (t === ((4 << 3) | LEN)) {
      r.len();
      out.parentLength = r.end - r.start;
    } else r.skip(t & 7, t >>> 3);
  }
  r.buf = NO_BYTES; // hold no request body between requests
  if (out.traceLength !== 16) return 'with a trace id that is not 16 bytes';
  if (allZero(body, out.trace, 16)) return 'with an all-zero trace id';
  if (out.spanLength !== 8) return 'with a span id that is not 8 bytes';
  if (allZero(body, out.span, 8)) return 'with an all-zero span id';
  if (out.parentLength !== 0 && out.parentLength !== 8) return 'with a parent span id that is not 8 bytes';
  return undefined;
}

function allZero(body: Buffer, at: number, n: number): boolean {
  for (let i = at; i < at + n; i++) if (body[i] !== 0) return false;
  return true;
}

export function rawSpanCount(traces: RawTraces): number {
  let n = 0;
  for (const rs of traces.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Size of a length-delimited field with a 1-byte tag and a body of `n` bytes. */
function fieldLength(n: number): number {
  return 1 + varintLength(n) + n;
}

/** Encodes RawTraces as an ExportTraceServiceRequest (one buffer, sizes computed first). */
export function encodeRawTraces(traces: RawTraces): Buffer {
  const scopeSizes: number[] = [];
  const resourceSizes: number[] = [];
  let total = 0;
  for (const rs of traces.resourceSpans) {
    let rsSize = fieldLength(rs.resource?.length ?? 0);
    for (const ss of rs.scopeSpans) {
      let ssSize = fieldLength(ss.scope?.length ?? 0);
      for (const span of ss.spans) ssSize += fieldLength(span.bytes.length);
      if (ss.schemaUrl) ssSize += fieldLength(Buffer.byteLength(ss.schemaUrl));
      scopeSizes.push(ssSize);
      rsSize += fieldLength(ssSize);
    }
    if (rs.schemaUrl) rsSize += fieldLength(Buffer.byteLength(rs.schemaUrl));
    resourceSizes.push(rsSize);
    total += fieldLength(rsSize);
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  const head = (field: number, n: number): void => {
    out[at++] = (field << 3) | LEN;
    let v = n;
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[at++] = v;
  };
  const bytes = (field: number, b: Buffer | null | undefined): void => {
    head(field, b?.length ?? 0);
    if (b != null) at += b.copy(out, at);
  };
  const text = (field: number, s: string | null | undefined): void => {
    if (!s) return;
    head(field, Buffer.byteLength(s));
    at += out.write(s, at);
  };
  let si = 0;
  traces.resourceSpans.forEach((rs, ri) => {
    head(1, resourceSizes[ri] as number);
    bytes(1, rs.resource);
    for (const ss of rs.scopeSpans) {
      head(2, scopeSizes[si++] as number);
      bytes(1, ss.scope);
      for (const span of ss.spans) bytes(2, span.bytes);
      text(3, ss.schemaUrl);
    }
    text(3, rs.schemaUrl);
  });
  if (at !== total) throw new Error(`encodeRawTraces: wrote ${at} of ${total} bytes`);
  return out;
}
