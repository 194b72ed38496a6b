import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  countItems,
  decodeExportResponse,
  decodeJson,
  decodeProtobuf,
  decodeStatus,
  encodeExportResponse,
  encodeJson,
  encodeProtobuf,
  encodeStatus,
  OtlpDecodeError,
  protobufjsReference,
  toOtlpJsonObject,
  validateAndPrune,
} from '../../../src/otlp/codec.js';
import { bytesToHex, hexToBytes, int64ToString } from '../../../src/otlp/ids.js';
import type { ExportMetricsServiceRequest, ExportTraceServiceRequest, Signal } from '../../../src/otlp/model.js';
import { overlongVarint, requestWith, wideVarint } from '../../support/wide-varints.js';
import {
  logsJson,
  logsProtobuf,
  makeLogRecords,
  makeResourceMetrics,
  makeSpans,
  metricsJson,
  metricsProtobuf,
  T0_NANOS,
  traceJson,
  traceProtobuf,
} from './fixtures.js';

const buf = (b: Uint8Array | string): Buffer =>
  typeof b === 'string' ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

async function sdkPayloads(): Promise<Record<Signal, { pb: Uint8Array; json: string }>> {
  const spans = await makeSpans(6, 8);
  const logs = await makeLogRecords(4);
  const rm = await makeResourceMetrics();
  return {
    traces: { pb: traceProtobuf(spans), json: traceJson(spans) },
    logs: { pb: logsProtobuf(logs), json: logsJson(logs) },
    metrics: { pb: metricsProtobuf(rm), json: metricsJson(rm) },
  };
}

const payloads = await sdkPayloads();
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];

function assertDecodeError(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof OtlpDecodeError, `expected OtlpDecodeError, got ${String(err)}`);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

describe('protobuf round trip of SDK payloads', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: decode → encode gives the canonical bytes (same as protobufjs), and is idempotent`, () => {
      const { pb } = payloads[signal];
      const req = decodeProtobuf(signal, pb);
      const out = encodeProtobuf(signal, req);
      // protobufjs (an independent implementation over the same .proto files) agrees byte for byte
      const ref = protobufjsReference.encode(signal, protobufjsReference.decode(signal, pb));
      assert.equal(buf(out).toString('hex'), buf(ref).toString('hex'));
      // the SDK writes explicit zeros (droppedAttributesCount: 0 …); the canonical form omits them
      assert.ok(out.length <= pb.length);
      assert.deepEqual(buf(encodeProtobuf(signal, decodeProtobuf(signal, out))), buf(out));
      // same data either way
      assert.deepEqual(toOtlpJsonObject(signal, decodeProtobuf(signal, out)), toOtlpJsonObject(signal, req));
    });
  }

  it('metrics fixture covers gauge, sum, histogram and exponential histogram', () => {
    const req = decodeProtobuf('metrics', payloads.metrics.pb);
    const metrics = req.resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics ?? [];
    const kinds = new Set(
      metrics.map((m) =>
        m.gauge ? 'gauge' : m.sum ? 'sum' : m.histogram ? 'histogram' : m.exponentialHistogram ? 'exp' : '?',
      ),
    );
    assert.deepEqual([...kinds].sort(), ['exp', 'gauge', 'histogram', 'sum']);
  });

  it('keeps 64-bit nanosecond timestamps exact', () => {
    const req = decodeProtobuf('traces', payloads.traces.pb);
    const root = req.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.find((s) => s.name === 'root');
    assert.ok(root);
    assert.equal(int64ToString(root.startTimeUnixNano), T0_NANOS);
    const logs = decodeProtobuf('logs', payloads.logs.pb);
    assert.equal(int64ToString(logs.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]?.timeUnixNano), T0_NANOS);
    const json = JSON.parse(encodeJson('traces', req)) as {
      resourceSpans: { scopeSpans: { spans: { name: string; startTimeUnixNano: string }[] }[] }[];
    };
    const j = json.resourceSpans[0]?.scopeSpans[0]?.spans.find((s) => s.name === 'root');
    assert.equal(j?.startTimeUnixNano, T0_NANOS);
  });

  it('encodes plain objects with Int64 as string, number or bigint', () => {
    const traceId = hexToBytes('5b8efff798038103d269b633813fc60c');
    const spanId = hexToBytes('eee19b7ec3c1b174');
    const mk = (t: string | number | bigint): ExportTraceServiceRequest => ({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId, name: 'x', startTimeUnixNano: t as string }] }] }],
    });
    const a = encodeProtobuf('traces', mk(T0_NANOS));
    assert.deepEqual(buf(encodeProtobuf('traces', mk(BigInt(T0_NANOS)))), buf(a));
    const back = decodeProtobuf('traces', a);
    assert.equal(int64ToString(back.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0]?.startTimeUnixNano), T0_NANOS);
    assert.equal(
      int64ToString(
        decodeProtobuf('traces', encodeProtobuf('traces', mk(1234567))).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0]
          ?.startTimeUnixNano,
      ),
      '1234567',
    );
  });

  it('writes non-nullable messages like the Collector (resource, scope, status, KeyValue.value)', () => {
    const req: ExportTraceServiceRequest = {
      resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a', attributes: [{ key: 'k' }] }] }] }],
    };
    const hex = buf(encodeProtobuf('traces', req)).toString('hex');
    // ResourceSpans{resource{}, scope_spans{scope{}, spans{name, attributes{key, value{}}, status{}}}}
    assert.equal(hex, '0a14' + '0a00' + '1210' + '0a00' + '120c' + '2a0161' + '4a050a016b1200' + '7a00');
  });
});

describe('summary metrics (hand-built)', () => {
  const req: ExportMetricsServiceRequest = {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
        scopeMetrics: [
          {
            scope: { name: 'legacy' },
            metrics: [
              {
                name: 'rpc.latency',
                unit: 's',
                summary: {
                  dataPoints: [
                    {
                      startTimeUnixNano: '1700000000000000000',
                      timeUnixNano: T0_NANOS,
                      count: '10',
                      sum: 4.5,
                      quantileValues: [
                        { quantile: 0, value: 0.1 },
                        { quantile: 0.5, value: 0.4 },
                        { quantile: 1, value: 0.9 },
                      ],
                      attributes: [{ key: 'method', value: { stringValue: 'Get' } }],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };

  it('round-trips through protobuf and JSON', () => {
    const pb = encodeProtobuf('metrics', req);
    const back = decodeProtobuf('metrics', pb);
    assert.deepEqual(buf(encodeProtobuf('metrics', back)), buf(pb));
    assert.equal(countItems('metrics', back), 1);
    const json = encodeJson('metrics', back);
    assert.match(
      json,
      /"quantileValues":\[\{"value":0.1\},\{"quantile":0.5,"value":0.4\},\{"quantile":1,"value":0.9\}\]/,
    );
    assert.match(json, /"count":"10"/);
    assert.deepEqual(decodeJson('metrics', json), back);
    assert.deepEqual(buf(protobufjsReference.encode('metrics', protobufjsReference.decode('metrics', pb))), buf(pb));
  });
});

describe('OTLP/JSON', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: the SDK's JSON decodes to the same model as its protobuf`, () => {
      const fromJson = decodeJson(signal, payloads[signal].json);
      const fromPb = decodeProtobuf(signal, payloads[signal].pb);
      assert.deepEqual(fromJson, fromPb);
      assert.deepEqual(buf(encodeProtobuf(signal, fromJson)), buf(encodeProtobuf(signal, fromPb)));
    });
    it(`${signal}: encodeJson → decodeJson is lossless`, () => {
      const req = decodeProtobuf(signal, payloads[signal].pb);
      assert.deepEqual(decodeJson(signal, encodeJson(signal, req)), req);
      assert.deepEqual(decodeJson(signal, Buffer.from(encodeJson(signal, req))), req);
      assert.deepEqual(decodeJson(signal, toOtlpJsonObject(signal, req)), req);
    });
  }

  it('writes ids as hex, int64 as strings, enums as ints, bytes as base64 and omits unset fields', () => {
    const req: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: hexToBytes('5b8efff798038103d269b633813fc60c'),
                  spanId: hexToBytes('eee19b7ec3c1b174'),
                  name: 'GET /',
                  kind: 2,
                  startTimeUnixNano: T0_NANOS,
                  droppedAttributesCount: 0,
                  attributes: [
                    { key: 'b', value: { bytesValue: Buffer.from('hi') } },
                    { key: 'i', value: { intValue: 0 } },
                    { key: 'd', value: { doubleValue: Number.NaN } },
                  ],
                  status: { code: 2, message: 'bad' },
                },
              ],
            },
          ],
        },
      ],
    };
    const json = JSON.parse(encodeJson('traces', req)) as {
      resourceSpans: [{ scopeSpans: [{ spans: [Record<string, unknown>] }] }];
    };
    const span = json.resourceSpans[0].scopeSpans[0].spans[0];
    assert.deepEqual(span, {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'GET /',
      kind: 2,
      startTimeUnixNano: T0_NANOS,
      attributes: [
        { key: 'b', value: { bytesValue: 'aGk=' } },
        { key: 'i', value: { intValue: '0' } },
        { key: 'd', value: { doubleValue: 'NaN' } },
      ],
      status: { message: 'bad', code: 2 },
    });
  });

  it('a NaN double is encoded as the one quiet NaN, whatever payload it was decoded with', () => {
    const req = {
      resourceSpans: [
        { scopeSpans: [{ spans: [{ name: 'n', attributes: [{ key: 'd', value: { doubleValue: 1.5 } }] }] }] },
      ],
    };
    const bytes = Buffer.from(encodeProtobuf('traces', req));
    const at = bytes.indexOf(Buffer.from([0x21, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f])) + 1; // AnyValue.double_value = 1.5
    assert.ok(at > 0);
    const canonical = Buffer.from([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
    // NaNs with payloads, little-endian: negative signalling, positive signalling, negative quiet
    for (const nan of ['333333333333f3ff', '010000000000f07f', '000000000000f8ff'].map((h) => Buffer.from(h, 'hex'))) {
      const withNan = Buffer.from(bytes);
      nan.copy(withNan, at);
      const once = Buffer.from(encodeProtobuf('traces', decodeProtobuf('traces', withNan)));
      assert.deepEqual(once.subarray(at, at + 8), canonical, nan.toString('hex'));
      assert.deepEqual(Buffer.from(encodeProtobuf('traces', decodeProtobuf('traces', once))), once);
    }
  });

  it('accepts snake_case keys, enum names, int64 as numbers and ignores unknown fields', () => {
    const req = decodeJson('traces', {
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: '5B8EFFF798038103D269B633813FC60C',
                  span_id: 'eee19b7ec3c1b174',
                  kind: 'SPAN_KIND_CLIENT',
                  start_time_unix_nano: 1700000000,
                  future_field: { x: 1 },
                  status: { code: 'STATUS_CODE_ERROR' },
                },
              ],
            },
          ],
        },
      ],
    });
    const span = req.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];
    assert.equal(bytesToHex(span?.traceId), '5b8efff798038103d269b633813fc60c');
    assert.equal(span?.kind, 3);
    assert.equal(span?.status?.code, 2);
    assert.equal(int64ToString(span?.startTimeUnixNano), '1700000000');
  });

  it('rejects malformed JSON with OtlpDecodeError naming the path', () => {
    assertDecodeError(() => decodeJson('traces', '{"resourceSpans": ['), /invalid JSON/);
    assertDecodeError(() => decodeJson('traces', '[]'), /expected an object/);
    assertDecodeError(() => decodeJson('traces', 'null'), /expected an object/);
    assertDecodeError(() => decodeJson('traces', { resourceSpans: {} }), /resourceSpans: expected an array/);
    assertDecodeError(
      () => decodeJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz' }] }] }] }),
      /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: expected a hex id/,
    );
    assertDecodeError(
      () => decodeJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 5 }] }] }] }),
      /name: expected a string/,
    );
    assertDecodeError(
      () => decodeJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: '12x' }] }] }] }),
      /startTimeUnixNano: expected a 64-bit integer/,
    );
    assertDecodeError(
      () => decodeJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: '-1' }] }] }] }),
      /out of range/,
    );
    assertDecodeError(
      () => decodeJson('traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 'NOPE' }] }] }] }),
      /kind: expected an enum/,
    );
    assertDecodeError(
      () => decodeJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { boolValue: 'yes' } }] }] }] }),
      /boolValue/,
    );
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 5000; i++) deep = { arrayValue: { values: [deep] } };
    assertDecodeError(
      () => decodeJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: deep }] }] }] }),
      /nesting/,
    );
  });
});

describe('an empty attribute key', () => {
  // proto3 leaves an empty string off the wire, and OTLP/JSON writers may leave "key" out: the model's
  // KeyValue.key is a string, '' as the Collector's pdata reads it, in every place a KeyValue can be
  const keyless = { value: { stringValue: 'x' } };
  const json: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: { attributes: [keyless] as never },
        scopeSpans: [
          {
            scope: { name: 's', attributes: [keyless] as never },
            spans: [
              {
                name: 'n',
                attributes: [keyless, { key: 'k', value: { kvlistValue: { values: [keyless] as never } } }] as never,
                events: [{ name: 'e', attributes: [keyless] as never }],
              },
            ],
          },
        ],
      },
    ],
  };
  const keysOf = (r: ExportTraceServiceRequest) => {
    const rs = r.resourceSpans?.[0];
    const span = rs?.scopeSpans?.[0]?.spans?.[0];
    return [
      rs?.resource?.attributes?.[0]?.key,
      rs?.scopeSpans?.[0]?.scope?.attributes?.[0]?.key,
      span?.attributes?.[0]?.key,
      span?.attributes?.[1]?.value?.kvlistValue?.values?.[0]?.key,
      span?.events?.[0]?.attributes?.[0]?.key,
    ];
  };
  it('decodes as \'\' from protobuf (where it is absent) and from JSON (with or without "key")', () => {
    const pb = encodeProtobuf('traces', json);
    // nothing of the key is written: the bytes are what an SDK sends for key ""
    assert.equal(buf(pb).includes(Buffer.from([0x0a, 0x00])), false);
    assert.deepEqual(keysOf(decodeProtobuf('traces', pb)), ['', '', '', '', '']);
    assert.deepEqual(keysOf(decodeJson('traces', JSON.stringify(json))), ['', '', '', '', '']);
    const withKey = JSON.stringify(json).replaceAll(
      '{"value":{"stringValue":"x"}}',
      '{"key":"","value":{"stringValue":"x"}}',
    );
    assert.deepEqual(keysOf(decodeJson('traces', withKey)), ['', '', '', '', '']);
  });
  it('is written as before: off the wire and out of JSON', () => {
    const decoded = decodeProtobuf('traces', encodeProtobuf('traces', json));
    assert.deepEqual(buf(encodeProtobuf('traces', decoded)), buf(encodeProtobuf('traces', json)));
    assert.equal(encodeJson('traces', decoded).includes('"key":""'), false);
  });
});

describe('malformed protobuf', () => {
  it('every truncation of a valid payload decodes or throws OtlpDecodeError', () => {
    const pb = buf(payloads.logs.pb);
    for (let n = 0; n < pb.length; n++) {
      try {
        decodeProtobuf('logs', pb.subarray(0, n));
      } catch (err) {
        assert.ok(err instanceof OtlpDecodeError, `prefix ${n}: ${String(err)}`);
      }
    }
  });

  it('rejects truncation, wrong wire types, bad field numbers and invalid UTF-8', () => {
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('0a05', 'hex')), /truncated/);
    assertDecodeError(
      () => decodeProtobuf('traces', Buffer.from('08 01'.replace(/ /g, ''), 'hex')),
      /wrong wire type 0 for field 1/,
    );
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('00', 'hex')), /field number 0/);
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('0f', 'hex')), /wire type 7/);
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('ffffffffffffffffffffff01', 'hex')), /varint/);
    // ResourceSpans{ScopeSpans{Span{name: 0xff 0xfe}}}
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('0a08120612042a02fffe', 'hex')), /UTF-8/);
    // LogRecord body nested 300 ArrayValues deep
    const varint = (n: number): Buffer => {
      const out: number[] = [];
      while (n > 0x7f) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      out.push(n);
      return Buffer.from(out);
    };
    const field = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), varint(body.length), body]);
    let value: Buffer = Buffer.from('0a0161', 'hex'); // AnyValue{string_value: "a"}
    for (let i = 0; i < 300; i++) value = field(0x2a, field(0x0a, value)); // AnyValue{array_value{values: [value]}}
    const logs = field(0x0a, field(0x12, field(0x12, field(0x2a, value)))); // ResourceLogs{ScopeLogs{LogRecord{body}}}
    assertDecodeError(() => decodeProtobuf('logs', logs), /nesting deeper than 100/);
    assert.doesNotThrow(() => decodeProtobuf('traces', Buffer.alloc(0)));
  });

  it('holds tags and lengths to 32 bits, as Go does; 10-byte int32 values (negatives) and overlong varints are read', () => {
    for (const at of ['resourceSpans', 'scopeSpans', 'span', 'name', 'tag'] as const) {
      assertDecodeError(() => decodeProtobuf('traces', requestWith(at, wideVarint)), /wider than 32 bits/);
      assert.equal(
        decodeProtobuf('traces', requestWith(at, overlongVarint)).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0]?.name,
        'abc',
      );
    }
    // a length wider than 32 bits inside an unknown field, and as the tag ending a group
    assertDecodeError(
      () => decodeProtobuf('traces', Buffer.from([0x5a, ...wideVarint(1), 0x00])),
      /wider than 32 bits/,
    );
    assertDecodeError(
      () => decodeProtobuf('traces', Buffer.from([0x63, 0xe4, 0x80, 0x80, 0x80, 0x10])),
      /wider than 32 bits/,
    );
    // values are not tags or lengths: a negative kind is a 10-byte varint, a uint32 keeps its low 32 bits
    const span = {
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.alloc(8, 2),
      name: 'x',
      kind: -1,
      droppedAttributesCount: 2 ** 32 - 1,
    };
    const body = encodeProtobuf('traces', {
      resourceSpans: [{ scopeSpans: [{ spans: [span] }] }],
    } as ExportTraceServiceRequest);
    const decoded = decodeProtobuf('traces', body).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0];
    assert.equal(decoded?.kind, -1);
    assert.equal(decoded?.droppedAttributesCount, 2 ** 32 - 1);
  });

  it('skips unknown fields of every wire type (including groups)', () => {
    // field 9 varint, field 10 fixed64, field 11 len, field 12 group(start/end), field 13 fixed32
    const unknown = Buffer.from(`4801${'5101020304050607 08'.replace(/ /g, '')}5a026869630801646d01020304`, 'hex');
    const req = decodeProtobuf('traces', unknown);
    assert.deepEqual(req, { resourceSpans: [] });
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('63', 'hex')), /truncated/);
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('6364', 'hex').subarray(0, 1)), /truncated/);
    assertDecodeError(() => decodeProtobuf('traces', Buffer.from('636c', 'hex')), /mismatched end group|truncated/);
  });

  it('never throws anything but OtlpDecodeError on corrupted SDK payloads (seeded fuzz)', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat with a short period
    };
    for (const signal of SIGNALS) {
      const pb = buf(payloads[signal].pb);
      for (let i = 0; i < 400; i++) {
        const m = Buffer.from(pb);
        const flips = 1 + rnd(4);
        for (let f = 0; f < flips; f++) m[rnd(m.length)] = rnd(256);
        try {
          const req = decodeProtobuf(signal, m);
          encodeProtobuf(signal, req); // whatever decodes must encode
          encodeJson(signal, req);
        } catch (err) {
          assert.ok(err instanceof OtlpDecodeError, `${signal} #${i}: ${String(err)}`);
        }
      }
    }
  });
});

describe('responses and status', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: export response with and without partial success`, () => {
      assert.equal(buf(encodeExportResponse(signal, 'protobuf')).length, 0);
      assert.equal(encodeExportResponse(signal, 'json'), '{}');
      assert.deepEqual(decodeExportResponse(signal, 'protobuf', encodeExportResponse(signal, 'protobuf')), {});
      const partial = { rejected: 3, message: '3 spans rejected' };
      for (const format of ['protobuf', 'json'] as const) {
        const body = encodeExportResponse(signal, format, partial);
        assert.deepEqual(decodeExportResponse(signal, format, body), { partialSuccess: partial });
      }
    });
  }

  it('json partial success uses the signal field and a string int64', () => {
    assert.equal(
      encodeExportResponse('logs', 'json', { rejected: 2, message: 'bad' }),
      '{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"bad"}}',
    );
    assert.equal(
      encodeExportResponse('metrics', 'json', { rejected: 1, message: '' }),
      '{"partialSuccess":{"rejectedDataPoints":"1"}}',
    );
    assert.equal(
      buf(encodeExportResponse('traces', 'protobuf', { rejected: 1, message: 'x' })).toString('hex'),
      '0a050801120178',
    );
  });

  it('google.rpc.Status', () => {
    assert.equal(encodeStatus('json', 3, 'bad data'), '{"code":3,"message":"bad data"}');
    assert.equal(buf(encodeStatus('protobuf', 3, 'x')).toString('hex'), '0803120178');
    for (const format of ['protobuf', 'json'] as const)
      assert.deepEqual(decodeStatus(format, encodeStatus(format, 8, 'slow down')), { code: 8, message: 'slow down' });
  });
});

describe('countItems and validateAndPrune', () => {
  it('counts spans, log records and data points', () => {
    assert.equal(countItems('traces', decodeProtobuf('traces', payloads.traces.pb)), 6);
    assert.equal(countItems('logs', decodeProtobuf('logs', payloads.logs.pb)), 4);
    // requests: 2 points, queue.depth 1, temperature 1, latency 1, latency.exp 1
    assert.equal(countItems('metrics', decodeProtobuf('metrics', payloads.metrics.pb)), 6);
    assert.equal(countItems('traces', {}), 0);
  });

  it('prunes invalid spans and reports them', () => {
    const good = {
      traceId: hexToBytes('5b8efff798038103d269b633813fc60c'),
      spanId: hexToBytes('eee19b7ec3c1b174'),
      name: 'ok',
    };
    const req: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          scopeSpans: [{ spans: [good, { ...good, traceId: Buffer.alloc(16) }, { ...good, spanId: Buffer.alloc(4) }] }],
        },
        { scopeSpans: [{ spans: [{ ...good, traceId: undefined }] }] },
      ],
    };
    const r = validateAndPrune('traces', req);
    assert.equal(r.rejected, 3);
    assert.match(r.message, /^3 spans rejected: /);
    assert.match(r.message, /all-zero trace id/);
    assert.equal(countItems('traces', req), 1);
    assert.equal(req.resourceSpans?.length, 1); // the emptied resource is gone
    assert.deepEqual(validateAndPrune('traces', req), { rejected: 0, message: '' });
  });

  it('prunes log records with wrong-length ids but keeps logs without ids', () => {
    const r = validateAndPrune('logs', {
      resourceLogs: [
        { scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { traceId: Buffer.alloc(3, 1) }] }] },
      ],
    });
    assert.equal(r.rejected, 1);
    const sdk = decodeProtobuf('logs', payloads.logs.pb);
    assert.deepEqual(validateAndPrune('logs', sdk), { rejected: 0, message: '' });
  });

  it('drops metrics without data and rejects inconsistent histogram points', () => {
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                { name: 'empty' },
                {
                  name: 'h',
                  histogram: {
                    dataPoints: [
                      { bucketCounts: [1, 2], explicitBounds: [1, 2, 3] },
                      { bucketCounts: [1, 2], explicitBounds: [5] },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const r = validateAndPrune('metrics', req);
    assert.equal(r.rejected, 1);
    assert.match(r.message, /1 metrics without data points dropped/);
    assert.equal(countItems('metrics', req), 1);
    assert.deepEqual(validateAndPrune('metrics', decodeProtobuf('metrics', payloads.metrics.pb)), {
      rejected: 0,
      message: '',
    });
  });
});

describe('src/otlp/testdata', () => {
  for (const signal of SIGNALS) {
    it(`${signal}.pb and ${signal}.json hold the same data`, () => {
      const dir = new URL('../../../src/otlp/testdata/', import.meta.url);
      const pb = readFileSync(new URL(`${signal}.pb`, dir));
      const json = readFileSync(new URL(`${signal}.json`, dir), 'utf8');
      assert.deepEqual(decodeJson(signal, json), decodeProtobuf(signal, pb));
      assert.ok(countItems(signal, decodeProtobuf(signal, pb)) > 0);
    });
  }
});

describe('encoding guards', () => {
  it('refuses ids given as strings instead of bytes', () => {
    assert.throws(
      () =>
        encodeProtobuf('traces', {
          resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'abc' as unknown as Uint8Array }] }] }],
        }),
      /bytes field traceId must be a Uint8Array/,
    );
  });
});
