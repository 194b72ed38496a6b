// The RowBinary span encoder (protobuf wire → rows) writes exactly the rows traceRows builds from the
// decoded request — every column, every AnyValue kind, duplicate keys, GenAI and cost — and fails a
// poison message with the same error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NativeBlockEncoder } from '../../../src/loader/native-block.js';
import { parsePricing } from '../../../src/loader/pricing.js';
import type { Column } from '../../../src/loader/row-binary.js';
import { nanosToDateTime64 } from '../../../src/loader/time.js';
import { TRACE_COLUMNS, traceRowBinary } from '../../../src/loader/traces-rowbinary.js';
import { traceRows } from '../../../src/loader/traces-rows.js';
import { decodeProtobuf, encodeProtobuf, otlpRoot } from '../../../src/otlp/codec.js';
import type { AnyValue, ExportTraceServiceRequest, KeyValue } from '../../../src/otlp/model.js';
import { compileCodec } from '../../../src/otlp/wire.js';
import { readNativeBlock } from '../../support/native-reader.js';
import { readRowBinary, type Value } from '../../support/row-binary-reader.js';
import { wideVarint } from '../../support/wide-varints.js';

const pricing = parsePricing(
  'providers:\n  openai:\n    gpt-4o: {input_per_million: 2.5, output_per_million: 10, cache_read_per_million: 1.25}\n',
);

/** A row as traceRows writes it (JSONEachRow values) from a RowBinary row. */
function asJsonRow(row: Record<string, Value>, columns: readonly Column[]): Record<string, unknown> {
  const conv = (type: string, v: Value): unknown => {
    const inner = /^(LowCardinality|Array)\((.*)\)$/.exec(type);
    if (inner?.[1] === 'LowCardinality') return conv(inner[2]!, v);
    if (inner?.[1] === 'Array') return (v as Value[]).map((x) => conv(inner[2]!, x));
    if (type.startsWith('Map(')) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v as Map<string, Value>)
        Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
      return o;
    }
    if (type === 'DateTime64(9)') return nanosToDateTime64(v as bigint);
    if (type === 'UInt64') return (v as bigint).toString();
    return v;
  };
  return Object.fromEntries(columns.map((c) => [c.name, conv(c.type, row[c.name]!)]));
}

/** traceRows' values with UInt64 columns as exact decimal text (numbers and strings alike). */
function normalized(row: Record<string, unknown>, columns: readonly Column[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (c.type === 'UInt64') {
      const n = BigInt(typeof v === 'number' ? Math.trunc(v) : String(v));
      out[c.name] = (n < 0n ? 0n : n > 2n ** 64n - 1n ? 2n ** 64n - 1n : n).toString();
    } else out[c.name] = v;
  }
  return out;
}

function bothWays(bytes: Buffer) {
  const unknownJson: string[] = [];
  const unknownBinary: string[] = [];
  const expected = traceRows(decodeProtobuf('traces', bytes), {
    pricing,
    onUnknownModel: (p, m) => unknownJson.push(`${p}/${m}`),
  }).map((r) => normalized(r, TRACE_COLUMNS));
  // the encoder reports each distinct model once per message, with its count
  const encoded = traceRowBinary(bytes, {
    pricing,
    onUnknownModel: (p, m, n = 1) => {
      for (let i = 0; i < n; i++) unknownBinary.push(`${p}/${m}`);
    },
  });
  const actual = readRowBinary(encoded.data, TRACE_COLUMNS).map((r) => asJsonRow(r, TRACE_COLUMNS));
  return { expected, actual, rows: encoded.rows, unknownJson: unknownJson.sort(), unknownBinary: unknownBinary.sort() };
}

// ---- arbitraries ----
const KEYS = [
  'a',
  'b',
  'http.route',
  '10',
  '__proto__',
  'ключ',
  'service.name',
  'tenant.id',
  'deployment.environment',
  'deployment.environment.name',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.operation.name',
  'gen_ai.request.model',
  'gen_ai.response.model',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cost',
];
const key = fc.oneof(fc.constantFrom(...KEYS), fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }));
const scalarValue: fc.Arbitrary<AnyValue> = fc.oneof(
  fc.string({ maxLength: 60, unit: 'grapheme' }).map((s) => ({ stringValue: s })),
  fc.constantFrom('openai', 'gpt-4o', 'gpt-4o-mini', 'mystery', 'chat', '12', ' 7 ').map((s) => ({ stringValue: s })),
  fc.boolean().map((b) => ({ boolValue: b })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: n.toString() })),
  fc.integer({ min: 0, max: 5000 }).map((n) => ({ intValue: n })),
  fc.double().map((d) => ({ doubleValue: d })),
  fc.uint8Array({ maxLength: 12 }).map((b) => ({ bytesValue: b })),
  fc.constant({}),
);
const anyValue: fc.Arbitrary<AnyValue> = fc.oneof(
  { weight: 6, arbitrary: scalarValue },
  { weight: 1, arbitrary: fc.array(scalarValue, { maxLength: 3 }).map((values) => ({ arrayValue: { values } })) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.record({ key, value: scalarValue }), { maxLength: 3 })
      .map((values) => ({ kvlistValue: { values } })),
  },
);
const attributes: fc.Arbitrary<KeyValue[]> = fc.array(fc.record({ key, value: anyValue }, { requiredKeys: ['key'] }), {
  maxLength: 8,
});
const nanos = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map((n) => n.toString());
const bytes = (n: number) => fc.oneof(fc.uint8Array({ minLength: n, maxLength: n }), fc.uint8Array({ maxLength: 20 }));
const text = fc.string({ maxLength: 30, unit: 'grapheme' });
const span = fc.record(
  {
    traceId: bytes(16),
    spanId: bytes(8),
    parentSpanId: bytes(8),
    traceState: text,
    name: text,
    kind: fc.integer({ min: -2, max: 7 }),
    startTimeUnixNano: nanos,
    endTimeUnixNano: nanos,
    attributes,
    events: fc.array(fc.record({ timeUnixNano: nanos, name: text, attributes }, { requiredKeys: [] }), {
      maxLength: 3,
    }),
    links: fc.array(
      fc.record({ traceId: bytes(16), spanId: bytes(8), traceState: text, attributes }, { requiredKeys: [] }),
      { maxLength: 3 },
    ),
    status: fc.record({ code: fc.integer({ min: -1, max: 4 }), message: text }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const request: fc.Arbitrary<ExportTraceServiceRequest> = fc.record({
  resourceSpans: fc.array(
    fc.record(
      {
        resource: fc.record({ attributes }),
        scopeSpans: fc.array(
          fc.record(
            {
              scope: fc.record({ name: text, version: text }, { requiredKeys: [] }),
              spans: fc.array(span, { maxLength: 3 }),
            },
            { requiredKeys: ['spans'] },
          ),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: ['scopeSpans'] },
    ),
    { maxLength: 3 },
  ),
});

// ---- a protobuf field writer, to build requests whose fields come in an unusual order ----
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (n: number, body: Uint8Array) => Buffer.concat([varint((n << 3) | 2), varint(body.length), body]);
const codecOf = (type: string) => compileCodec(otlpRoot.lookupType(type));
/** Raw bytes: a tag and whatever follows it, written by hand. */
const tag = (...bytes: number[]) => Buffer.from(bytes);
/** A request of one span whose fields are `fields`, after a name that is fine. */
const spanOf = (...fields: Buffer[]) =>
  field(1, field(2, field(2, Buffer.concat([field(5, Buffer.from('s')), ...fields]))));
/** Decoding refuses `bytes`, and traceRowBinary refuses them with decoding's error in both layouts. */
function assertFailsAsDecodingFails(bytes: Buffer, name: string): void {
  let decodeError = '';
  try {
    decodeProtobuf('traces', bytes);
  } catch (err) {
    decodeError = (err as Error).message;
  }
  assert.ok(decodeError.length > 0, `decoding accepts the case ${name}`);
  for (const layout of ['rows', 'columns'] as const)
    assert.throws(
      () => traceRowBinary(bytes, { layout }),
      { name: 'OtlpDecodeError', message: decodeError },
      `${name} (${layout})`,
    );
}

/** An AnyValue holding a kvlist `levels` deep (each level: AnyValue → KeyValueList → KeyValue). */
function nestedKvList(levels: number): Buffer {
  let value = field(1, Buffer.from('leaf')); // string_value
  for (let i = 0; i < levels; i++)
    value = field(6, field(1, Buffer.concat([field(1, Buffer.from('k')), field(2, value)]))); // kvlist_value
  return value;
}

describe('traceRowBinary', () => {
  test('writes the rows traceRows builds, for any request', () => {
    fc.assert(
      fc.property(request, (req) => {
        const bytes = Buffer.from(encodeProtobuf('traces', req));
        let expectedError: unknown;
        let want: ReturnType<typeof bothWays> | undefined;
        try {
          want = bothWays(bytes);
        } catch (err) {
          expectedError = err;
        }
        if (want === undefined) {
          // a timestamp past 2262 in an event: both refuse the message with the same error
          assert.throws(() => traceRowBinary(bytes, { pricing }), { message: (expectedError as Error).message });
          return;
        }
        assert.deepEqual(want.actual, want.expected);
        assert.equal(want.rows, want.expected.length);
        assert.deepEqual(want.unknownBinary, want.unknownJson);
      }),
      { numRuns: 400 },
    );
  });

  test("layout 'columns': the same values, column by column, as one Native block reads them back", () => {
    const native = new NativeBlockEncoder(TRACE_COLUMNS);
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (reqs) => {
        const messages = reqs.map((r) => Buffer.from(encodeProtobuf('traces', r)));
        const byRow: Buffer[] = [];
        const byColumn: Buffer[] = [];
        const rows: number[] = [];
        for (const m of messages) {
          let r: ReturnType<typeof traceRowBinary>;
          try {
            r = traceRowBinary(m, { pricing });
          } catch {
            // a poison message fails in both layouts alike
            assert.throws(() => traceRowBinary(m, { pricing, layout: 'columns' }));
            continue;
          }
          byRow.push(Buffer.from(r.data));
          const c = traceRowBinary(m, { pricing, layout: 'columns' });
          assert.equal(c.rows, r.rows);
          byColumn.push(Buffer.from(c.data));
          rows.push(c.rows);
        }
        if (rows.length === 0) return;
        const block = readNativeBlock(native.encode(byColumn, rows));
        assert.deepEqual(block.rows, readRowBinary(Buffer.concat(byRow), TRACE_COLUMNS));
      }),
      { numRuns: 200 },
    );
  });

  test('an attribute whose AnyValue is empty, as the last bytes of the message, is read as empty (no hang)', {
    timeout: 10_000,
  }, () => {
    // the value field is present with no member: reading a member there ran past the buffer's end
    const emptyValue = Buffer.from([0x12, 0x00]); // KeyValue.value, length 0
    const attribute = field(9, Buffer.concat([field(1, Buffer.from('gen_ai.request.model')), emptyValue]));
    const bytes = field(1, field(2, field(2, attribute)));
    assert.deepEqual(bytes.subarray(-2), emptyValue);
    const want = bothWays(bytes);
    assert.equal(want.rows, 1);
    assert.deepEqual(want.actual, want.expected);
  });

  test('every column of a GenAI span with events and links', () => {
    const req: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'svc' } },
              { key: 'tenant.id', value: { stringValue: 't1' } },
              { key: 'deployment.environment', value: { stringValue: 'prod' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 'sc', version: '1.2' },
              spans: [
                {
                  traceId: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
                  spanId: Buffer.from('1112131415161718', 'hex'),
                  parentSpanId: Buffer.from('2122232425262728', 'hex'),
                  traceState: 'a=b',
                  name: 'chat gpt-4o',
                  kind: 3,
                  startTimeUnixNano: '1700000000123456789',
                  endTimeUnixNano: '1700000001123456790',
                  attributes: [
                    { key: 'gen_ai.system', value: { stringValue: 'openai' } },
                    { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
                    { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o-2024-08-06' } },
                    { key: 'gen_ai.usage.prompt_tokens', value: { intValue: 1000 } },
                    { key: 'gen_ai.usage.completion_tokens', value: { intValue: 500 } },
                    { key: 'gen_ai.usage.cache_read_input_tokens', value: { intValue: 200 } },
                    { key: 'gen_ai.system', value: { stringValue: 'shadowed' } },
                  ],
                  events: [
                    {
                      timeUnixNano: '1700000000500000001',
                      name: 'ev',
                      attributes: [{ key: 'k', value: { intValue: 3 } }],
                    },
                  ],
                  links: [{ traceId: Buffer.alloc(16, 0xff), spanId: Buffer.alloc(8, 0xee), traceState: 'x=y' }],
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    };
    const { expected, actual } = bothWays(Buffer.from(encodeProtobuf('traces', req)));
    assert.deepEqual(actual, expected);
    const r = actual[0]!;
    assert.equal(r.Timestamp, '2023-11-14 22:13:20.123456789');
    assert.equal(r.TraceId, '0102030405060708090a0b0c0d0e0f10');
    assert.equal(r.Duration, '1000000001');
    assert.deepEqual(r.SpanAttributes, {
      'gen_ai.system': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.prompt_tokens': '1000',
      'gen_ai.usage.completion_tokens': '500',
      'gen_ai.usage.cache_read_input_tokens': '200',
    });
    assert.deepEqual(r['Events.Attributes'], [{ k: '3' }]);
    assert.deepEqual(r['Links.SpanId'], ['ee'.repeat(8)]);
    assert.equal(r.GenAiCostSource, 'pricing');
    assert.equal(r.TenantId, 't1');
  });

  test('fields in any order, repeated messages: the last occurrence wins, as in decoding', () => {
    const resource = codecOf('opentelemetry.proto.resource.v1.Resource');
    const scope = codecOf('opentelemetry.proto.common.v1.InstrumentationScope');
    const spanCodec = codecOf('opentelemetry.proto.trace.v1.Span');
    const aSpan = spanCodec.encode({
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      name: 'first name',
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000000000100',
      status: { code: 1 },
    });
    // the span's name and status again, after the rest: the decoder keeps the later ones
    const spanBytes = Buffer.concat([aSpan, field(5, Buffer.from('second name')), field(15, Buffer.from([0x18, 2]))]);
    const scopeSpans = Buffer.concat([field(2, spanBytes), field(1, scope.encode({ name: 'late scope' }))]);
    const resourceSpans = Buffer.concat([
      field(1, resource.encode({ attributes: [{ key: 'service.name', value: { stringValue: 'early' } }] })),
      field(2, scopeSpans),
      field(1, resource.encode({ attributes: [{ key: 'service.name', value: { stringValue: 'late' } }] })),
    ]);
    const { expected, actual } = bothWays(field(1, resourceSpans));
    assert.deepEqual(actual, expected);
    assert.equal(actual[0]!.ServiceName, 'late');
    assert.equal(actual[0]!.ScopeName, 'late scope');
    assert.equal(actual[0]!.SpanName, 'second name');
    assert.equal(actual[0]!.StatusCode, 'Error');
  });

  test('more than 64 attributes: the first of duplicate keys is kept, before and after the list grows', () => {
    const attributes: KeyValue[] = [];
    for (let i = 0; i < 100; i++) attributes.push({ key: `k${i}`, value: { stringValue: `v${i}` } });
    // repeats of keys collected before the list grew (at 64 entries), and after
    attributes.splice(70, 0, { key: 'k3', value: { stringValue: 'again' } });
    attributes.push({ key: 'k80', value: { stringValue: 'again' } });
    const bytes = Buffer.from(
      encodeProtobuf('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 's', attributes }] }] }] }),
    );
    const { expected, actual } = bothWays(bytes);
    assert.deepEqual(actual, expected);
    const map = actual[0]!.SpanAttributes as Record<string, string>;
    assert.equal(Object.keys(map).length, 100);
    assert.equal(map.k3, 'v3');
    assert.equal(map.k80, 'v80');
  });

  test('spans that share their keys, and spans that repeat, drop, add or reorder them', () => {
    const kv = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });
    const lists: KeyValue[][] = [
      [kv('a', '1'), kv('b', '2'), kv('c', '3')],
      [kv('a', '4'), kv('b', '5'), kv('c', '6')], // the same keys as the span before
      [kv('a', '7'), kv('b', '8'), kv('a', 'dup'), kv('c', '9')], // a repeat where the next key was expected
      [kv('a', '10'), kv('b', '11')], // fewer
      [kv('a', '12'), kv('b', '13'), kv('c', '14'), kv('d', '15')], // more
      [kv('c', '16'), kv('b', '17'), kv('a', '18'), kv('c', 'dup')], // another order, then a repeat
      [kv('a', '19'), kv('b', '20'), kv('c', '21'), kv('gen_ai.request.model', 'gpt-4o')], // AI key added
      [kv('a', '22'), kv('b', '23'), kv('c', '24')],
    ];
    const spans = lists.map((attributes, i) => ({ name: `s${i}`, attributes }));
    const bytes = Buffer.from(encodeProtobuf('traces', { resourceSpans: [{ scopeSpans: [{ spans }] }] }));
    const { expected, actual } = bothWays(bytes);
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual[2]!.SpanAttributes, { a: '7', b: '8', c: '9' });
    assert.deepEqual(actual[5]!.SpanAttributes, { c: '16', b: '17', a: '18' });
    assert.equal(actual[6]!.GenAiRequestModel, 'gpt-4o');
    assert.equal(actual[7]!.GenAiRequestModel, '');
  });

  test('span attributes are checked as decoding checks them: invalid UTF-8 anywhere in them fails alike', () => {
    const kvCodec = codecOf('opentelemetry.proto.common.v1.KeyValue');
    const bad = Buffer.from([0x61, 0xff, 0x62]); // not UTF-8
    const str = (b: Buffer) => field(1, b); // AnyValue.string_value
    const attributesOf = (...kvs: Buffer[]) => Buffer.concat(kvs.map((kv) => field(9, kv)));
    const good = kvCodec.encode({ key: 'ok', value: { stringValue: 'fine' } });
    const cases: Record<string, Buffer> = {
      'in a key': attributesOf(good, Buffer.concat([field(1, bad), field(2, str(Buffer.from('v')))])),
      'in a string value': attributesOf(Buffer.concat([field(1, Buffer.from('k')), field(2, str(bad))]), good),
      'with the value before the key': attributesOf(Buffer.concat([field(2, str(bad)), field(1, Buffer.from('k'))])),
      'in a repeated key': attributesOf(good, Buffer.concat([field(1, Buffer.from('ok')), field(2, str(bad))])),
      'in a list value': attributesOf(
        Buffer.concat([field(1, Buffer.from('k')), field(2, field(5, field(1, str(bad))))]), // array_value
      ),
      'in a long value': attributesOf(
        Buffer.concat([field(1, Buffer.from('k')), field(2, str(Buffer.concat([Buffer.alloc(200, 0x61), bad])))]),
      ),
      'a truncated value': attributesOf(Buffer.concat([field(1, Buffer.from('k')), Buffer.from([0x12, 0x05, 0x0a])])),
      'values nested past the depth limit': attributesOf(
        Buffer.concat([field(1, Buffer.from('k')), field(2, nestedKvList(40))]),
      ),
    };
    for (const [name, attrs] of Object.entries(cases)) assertFailsAsDecodingFails(spanOf(attrs), name);
    // valid UTF-8 beyond ASCII passes, as it does in decoding
    const utf8 = spanOf(attributesOf(kvCodec.encode({ key: 'ключ', value: { stringValue: 'значение €' } })));
    const { expected, actual } = bothWays(utf8);
    assert.deepEqual(actual, expected);
    assert.deepEqual(actual[0]!.SpanAttributes, { ключ: 'значение €' });
  });

  test("a span's own fields are checked as decoding checks them: each kind of fault fails alike", () => {
    const bad = Buffer.from([0x61, 0xff, 0x62]); // not UTF-8
    const cases: Record<string, Buffer> = {
      'a start time cut short': spanOf(tag(0x39, 1, 2, 3)),
      'an end time cut short': spanOf(tag(0x41, 1)),
      'a name that is not UTF-8': spanOf(field(5, bad)),
      'a trace state that is not UTF-8': spanOf(field(3, bad)),
      'a long name that is not UTF-8': spanOf(field(5, Buffer.concat([Buffer.alloc(300, 0x61), bad]))),
      'a known field with another wire type': spanOf(tag(0x38, 1)),
      'a length-delimited kind': spanOf(field(6, Buffer.from('x'))),
      'field number 0': spanOf(tag(0x02, 1, 0x61)),
      'a kind whose varint runs past the span': spanOf(tag(0x30, 0x80)),
      'a kind varint longer than 10 bytes': spanOf(tag(0x30, ...Array<number>(10).fill(0x80), 0x01)),
      'a dropped count varint longer than 10 bytes': spanOf(tag(0x50, ...Array<number>(10).fill(0x80), 0x01)),
      'a length past the span': spanOf(tag(0x0a, 0x10, 0x61, 0x62)),
      'a five-byte length past the span': spanOf(tag(0x12, 0x80, 0x80, 0x80, 0x80, 0x01)),
      // bits past 32: the walk's full-width lengths would read these as 2^32 + 3
      'a name length wider than 32 bits': spanOf(tag(0x2a, ...wideVarint(3), 0x61, 0x62, 0x63)),
      'an attribute list length wider than 32 bits': spanOf(tag(0x4a, ...wideVarint(3), 0x0a, 0x01, 0x6b)),
      'a kind tag wider than 32 bits': spanOf(tag(0xb0, 0x80, 0x80, 0x80, 0x10, 0x01)),
      'flags cut short': spanOf(tag(0x85, 0x01, 0x00, 0x00)),
      'an unknown field of wire type 7': spanOf(tag(0xa7, 0x01)),
      'a status message that is not UTF-8': spanOf(field(15, field(2, bad))),
      'an event name that is not UTF-8': spanOf(field(11, field(2, bad))),
      'an event attribute that is not UTF-8': spanOf(field(11, field(3, field(1, bad)))),
      'a link trace state that is not UTF-8': spanOf(field(13, field(3, bad))),
      'a link cut short': spanOf(field(13, tag(0x0a, 0x05, 0x61))),
    };
    for (const [name, bytes] of Object.entries(cases)) assertFailsAsDecodingFails(bytes, name);
  });

  test('a span with unknown fields, groups, flags, overlong encodings and text beyond ASCII is read as decoding reads it', () => {
    const kvCodec = codecOf('opentelemetry.proto.common.v1.KeyValue');
    const attribute = field(9, kvCodec.encode({ key: 'k', value: { stringValue: 'v' } }));
    const cases: Record<string, Buffer> = {
      'a name beyond ASCII': spanOf(field(5, Buffer.from('名前 €'))),
      'a trace state beyond ASCII': spanOf(field(3, Buffer.from('é=1'))),
      'unknown fields of each wire type': spanOf(
        tag(0xa0, 0x01, 0x96, 0x01), // field 20, varint
        tag(0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8), // field 21, fixed64
        tag(0xb2, 0x01, 0x02, 0x61, 0x62), // field 22, length-delimited
        tag(0xbd, 0x01, 1, 2, 3, 4), // field 23, fixed32
        tag(0xc3, 0x01, 0x08, 0x01, 0xc4, 0x01), // field 24, a group holding a varint
        attribute,
      ),
      'flags, dropped counts and a kind as a 10-byte varint': spanOf(
        tag(0x85, 0x01, 0x01, 0x03, 0x00, 0x00),
        tag(0x50, 0x02),
        tag(0x60, 0x03),
        tag(0x70, 0x04),
        tag(0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
        attribute,
      ),
      'lengths written in more bytes than needed': spanOf(
        tag(0x0a, 0x82, 0x80, 0x00, 0x01, 0x02),
        tag(0x1a, 0x81, 0x80, 0x80, 0x80, 0x00, 0x61), // five bytes
        attribute,
      ),
      'events, links and a status': spanOf(
        field(11, Buffer.concat([tag(0x09, 1, 0, 0, 0, 0, 0, 0, 0), field(2, Buffer.from('ev'))])),
        field(13, Buffer.concat([field(1, Buffer.alloc(16, 1)), field(3, Buffer.from('x=1'))])),
        field(15, Buffer.concat([field(2, Buffer.from('boom')), tag(0x18, 0x02)])),
        attribute,
      ),
      'a multi-byte tag for a known field': spanOf(tag(0xaa, 0x80, 0x00, 0x02, 0x61, 0x62), attribute), // name
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const { expected, actual } = bothWays(bytes);
      assert.equal(actual.length, 1, name);
      assert.deepEqual(actual, expected, name);
    }
    // a KeyValue without its key field has the key '' (proto3's default), in both ways of reading it
    const keyless = bothWays(spanOf(field(9, field(2, field(1, Buffer.from('x'))))));
    assert.deepEqual(keyless.actual, keyless.expected);
    assert.deepEqual(keyless.actual[0]!.SpanAttributes, { '': 'x' });
  });

  test('a request with bytes changed at random fails exactly when decoding it fails, and reads alike otherwise', () => {
    const mutated = request.chain((req) => {
      const bytes = Buffer.from(encodeProtobuf('traces', req));
      const change = fc.record({ at: fc.nat({ max: Math.max(0, bytes.length - 1) }), to: fc.nat({ max: 255 }) });
      return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
        const m = Buffer.from(bytes);
        for (const { at, to } of changes) if (at < m.length) m[at] = to;
        return m;
      });
    });
    fc.assert(
      fc.property(mutated, (m) => {
        let referenceError: unknown;
        try {
          traceRows(decodeProtobuf('traces', m), { pricing });
        } catch (err) {
          referenceError = err;
        }
        for (const layout of ['rows', 'columns'] as const) {
          let error: unknown;
          try {
            traceRowBinary(m, { pricing, layout });
          } catch (err) {
            error = err;
          }
          assert.equal(
            error === undefined,
            referenceError === undefined,
            `${layout}: ${String(error ?? referenceError)}`,
          );
        }
        if (referenceError === undefined) {
          const { expected, actual } = bothWays(m);
          assert.deepEqual(actual, expected);
        }
      }),
      { numRuns: 600 },
    );
  });

  test('a poison message fails with the error decoding gives', () => {
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]);
    let decodeError = '';
    try {
      decodeProtobuf('traces', garbage);
    } catch (err) {
      decodeError = (err as Error).message;
    }
    assert.ok(decodeError.length > 0);
    assert.throws(() => traceRowBinary(garbage), { name: 'OtlpDecodeError', message: decodeError });
    const late = encodeProtobuf('traces', {
      resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'x', startTimeUnixNano: '10413792000000000000' }] }] }],
    });
    assert.throws(() => traceRowBinary(Buffer.from(late)), /outside 1970-01-01 \.\. 2262-04-11/);
    // the encoder is left clean: the next message encodes as usual
    const ok = encodeProtobuf('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'ok' }] }] }] });
    assert.equal(traceRowBinary(Buffer.from(ok)).rows, 1);
  });

  test("a message with several faults fails with decoding's error: that of its first fault", () => {
    const bad = Buffer.from([0x61, 0xff, 0x62]); // not UTF-8
    const badAttribute = field(9, Buffer.concat([field(1, Buffer.from('k')), field(2, field(1, bad))]));
    const spanWith = (...fields: Buffer[]) => field(2, Buffer.concat([field(5, Buffer.from('s')), ...fields]));
    const requestOf = (...spans: Buffer[]) => field(1, field(2, Buffer.concat(spans)));
    const cases: Record<string, Buffer> = {
      // the span fields are checked as the walk reaches them, the rest of the message before it
      'an attribute, then a name in a later span': requestOf(spanWith(badAttribute), spanWith(field(5, bad))),
      'a name, then a later span cut short': requestOf(spanWith(field(5, bad)), spanWith(tag(0x39, 1, 2))),
      'a span, then the scope after it': Buffer.concat([
        requestOf(spanWith(field(3, bad))),
        field(1, field(2, field(1, field(1, bad)))), // a second resource's scope name
      ]),
      'an unusual field, then a fault the span validator finds': requestOf(
        spanWith(tag(0xa0, 0x01, 0x01), field(5, bad)), // field 20 (unknown), then a name
        spanWith(badAttribute),
      ),
    };
    for (const [name, bytes] of Object.entries(cases)) assertFailsAsDecodingFails(bytes, name);
  });

  test("a message that fails reports none of its spans' unpriced models", () => {
    const unknown: string[] = [];
    const onUnknownModel = (provider: string, model: string) => unknown.push(`${provider}/${model}`);
    const llmSpan = (model: string) => ({
      name: 'chat',
      attributes: [
        { key: 'gen_ai.system', value: { stringValue: 'openai' } },
        { key: 'gen_ai.request.model', value: { stringValue: model } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: 10 } },
      ],
    });
    const good = Buffer.from(
      encodeProtobuf('traces', { resourceSpans: [{ scopeSpans: [{ spans: [llmSpan('no-such-model')] }] }] }),
    );
    // the same span, then one cut short: the message goes to the DLQ, its spans are not loaded
    const poisoned = Buffer.concat([good, field(1, field(2, field(2, tag(0x39, 1, 2))))]);
    assert.throws(() => traceRowBinary(poisoned, { pricing, onUnknownModel }), { name: 'OtlpDecodeError' });
    assert.deepEqual(unknown, []);
    traceRowBinary(good, { pricing, onUnknownModel });
    assert.deepEqual(unknown, ['openai/no-such-model']);
  });
});
