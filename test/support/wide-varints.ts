// Protobuf bytes with tags and lengths written as 10-byte varints: "wide" ones carry bits past 32
// (refused, as Go's protowire refuses them), "overlong" ones do not (valid, if wasteful, encodings).
// Reading only the low 32 bits of a wide length once let such a request through validation, after
// which code that walks the bytes with full-width varints read past the message, or looped for ever.

/** The 10-byte varint of n + 2^32 (n < 128): its low 32 bits say n. */
export const wideVarint = (n: number): number[] => [0x80 | n, 0x80, 0x80, 0x80, 0x90, 0x80, 0x80, 0x80, 0x80, 0x00];
/** The 10-byte varint of n < 128 with no bits past 32: overlong, but n. */
export const overlongVarint = (n: number): number[] => [0x80 | n, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];

/** A length-delimited field: its tag byte, its length (as `length` gives it; default: one byte), its body. */
function lenField(tag: number, body: number[], length: (n: number) => number[] = (n) => [n]): number[] {
  if (body.length >= 0x80) throw new RangeError('lenField: bodies up to 127 bytes');
  return [tag, ...length(body.length), ...body];
}

/** A span with ids and a name (tags 0x0a, 0x12, 0x2a), the name's length written by `nameLength`. */
const spanBytes = (nameLength?: (n: number) => number[]): number[] => [
  ...lenField(0x0a, Array<number>(16).fill(1)),
  ...lenField(0x12, Array<number>(8).fill(2)),
  ...lenField(0x2a, [...Buffer.from('abc')], nameLength),
];

/**
 * An ExportTraceServiceRequest of one span, with one of its lengths (or its first tag) written wide or
 * overlong: `at` says which — the ResourceSpans, the ScopeSpans, the Span, or the span's name.
 */
export function requestWith(
  at: 'resourceSpans' | 'scopeSpans' | 'span' | 'name' | 'tag',
  varint: (n: number) => number[],
): Buffer {
  const length = (level: typeof at) => (at === level ? varint : undefined);
  const scopeSpans = lenField(0x12, spanBytes(length('name')), length('span'));
  const resourceSpans = lenField(0x12, scopeSpans, length('scopeSpans'));
  const request = lenField(0x0a, resourceSpans, length('resourceSpans'));
  // the request's first tag (field 1, length-delimited: 0x0a) as a 10-byte varint
  return Buffer.from(at === 'tag' ? [...varint(0x0a), ...request.slice(1)] : request);
}
