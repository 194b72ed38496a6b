/**
 * Traces forwarded without decoding (pipelines that transform nothing) must carry exactly what the
 * decode → validate → encode path carries: same accepted spans under the same resources and scopes,
 * same rejections and messages, same errors for malformed bodies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { groupSpansByTraceId, splitSpanTree } from '../../../src/kafka/split.js';
import {
  countItems,
  decodeProtobuf,
  encodeProtobuf,
  OtlpDecodeError,
  validateAndPrune,
} from '../../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../../src/otlp/model.js';
import { encodeRawTraces, type RawTraces, rawSpanCount, scanTraces } from '../../../src/otlp/raw-traces.js';
import { stampTenant, stampTenantRaw } from '../../../src/receiver/auth.js';
import { overlongVarint, requestWith, wideVarint } from '../../support/wide-varints.js';
import { makeSpans, traceProtobuf } from './fixtures.js';

/** (resource, scope, span) triples in order: equal for two requests that carry the same data. */
function flatten(req: ExportTraceServiceRequest): unknown[] {
  const out: unknown[] = [];
  for (const rs of req.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        out.push({
          resource: rs.resource ?? {},
          resourceSchema: rs.schemaUrl ?? '',
          scope: ss.scope ?? {},
          scopeSchema: ss.schemaUrl ?? '',
          span,
        });
  return out;
}

/**
 * The data a consumer of the Kafka message gets, for either path, in canonical form: forwarded spans
 * keep their encoding (e.g. a KeyValue without `value`, which the Collector's marshaler writes as an
 * empty AnyValue), so both sides go through one canonical encode → decode.
 */
const viaModel = (req: ExportTraceServiceRequest) => decodeProtobuf('traces', encodeProtobuf('traces', req));
const viaRaw = (raw: RawTraces) => viaModel(decodeProtobuf('traces', encodeRawTraces(raw)));

/** Decodes `body` both ways; both must throw the same OtlpDecodeError or carry the same data. */
function assertSameAsDecoding(body: Buffer): void {
  let model: ExportTraceServiceRequest;
  try {
    model = decodeProtobuf('traces', body);
  } catch (err) {
    assert.ok(err instanceof OtlpDecodeError);
    assert.throws(() => scanTraces(body), { name: 'OtlpDecodeError', message: err.message });
    return;
  }
  const total = (model.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []).length;
  const partial = validateAndPrune('traces', model);
  const scanned = scanTraces(body);
  assert.equal(scanned.total, total);
  assert.deepEqual(scanned.partial, partial);
  assert.deepEqual(flatten(viaRaw(scanned.traces)), flatten(viaModel(model)));
}

const id = (n: number, len: number) => Buffer.alloc(len, n);
const kv = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
const span = (trace: Buffer, spanId: Buffer, extra: Partial<Span> = {}): Span =>
  ({ traceId: trace, spanId, name: 'op', startTimeUnixNano: '1700000000000000001', ...extra }) as Span;

/** Two resources (one with a schema URL), three scopes, good and bad spans of three traces. */
function mixedRequest(): ExportTraceServiceRequest {
  const [t1, t2, t3] = [id(1, 16), id(2, 16), id(3, 16)];
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'a'), kv('tenant.id', 'spoofed')] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: { name: 's1', version: '1' },
            spans: [
              span(t1, id(1, 8)),
              span(id(9, 3), id(2, 8)), // bad trace id length
              span(t2, id(3, 8), { parentSpanId: id(1, 8), attributes: [kv('k', 'é∂')] }),
              span(t1, id(0, 8)), // all-zero span id
            ],
          },
          { scope: { name: 's2' }, schemaUrl: 'https://x/scope', spans: [span(t3, id(4, 8))] },
          { scope: { name: 'only-bad' }, spans: [span(t1, id(5, 8), { parentSpanId: id(5, 4) })] },
        ],
      },
      { scopeSpans: [{ spans: [span(t2, id(6, 8)), span(t3, id(7, 8))] }] },
    ],
  };
}

describe('raw traces (forwarded without decoding)', () => {
  it('an SDK export carries the same spans, resources and scopes as decoding it', async () => {
    const body = Buffer.from(traceProtobuf(await makeSpans(5, 6)));
    assertSameAsDecoding(body);
    const scanned = scanTraces(body);
    assert.equal(rawSpanCount(scanned.traces), countItems('traces', decodeProtobuf('traces', body)));
    assert.ok(scanned.total >= 5);
    assert.equal(scanned.partial.rejected, 0);
  });

  it('a tag or length wider than 32 bits is refused as decoding refuses it; overlong ones read alike', () => {
    // a wide length once passed validation (its low 32 bits checked) and then sent the scan past the
    // message, in a loop without end: one 48-byte request stalled a receiver thread for good
    for (const at of ['resourceSpans', 'scopeSpans', 'span', 'name', 'tag'] as const) {
      const wide = requestWith(at, wideVarint);
      // decoding first: should it accept the request again, this fails here instead of the scan hanging
      assert.throws(() => decodeProtobuf('traces', wide), /wider than 32 bits/, at);
      assertSameAsDecoding(wide);
      const overlong = requestWith(at, overlongVarint);
      assert.equal(decodeProtobuf('traces', overlong).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0]?.name, 'abc');
      assertSameAsDecoding(overlong);
    }
  });

  it('spans with bad ids are rejected with the same counts and message; emptied scopes disappear', () => {
    const body = Buffer.from(encodeProtobuf('traces', mixedRequest()));
    assertSameAsDecoding(body);
    const scanned = scanTraces(body);
    assert.equal(scanned.total, 8);
    assert.equal(scanned.partial.rejected, 3);
    assert.match(scanned.partial.message, /^3 spans rejected: /);
    assert.deepEqual(
      scanned.traces.resourceSpans.map((rs) => rs.scopeSpans.length),
      [2, 1],
    );
  });

  it('span bytes are forwarded as received, unknown span fields included', () => {
    const body = Buffer.from(encodeProtobuf('traces', mixedRequest()));
    const model = decodeProtobuf('traces', body);
    // append an unknown field (number 99, varint 7) to the end of the body's first span
    const scanned = scanTraces(body);
    const first = scanned.traces.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    assert.ok(first !== undefined);
    first.bytes = Buffer.concat([first.bytes, Buffer.from([0x98, 0x06, 0x07])]);
    const out = encodeRawTraces(scanned.traces);
    assert.ok(out.includes(first.bytes));
    assert.deepEqual(
      viaRaw(scanned.traces).resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0],
      model.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.[0],
    );
  });

  it('grouping by trace id and splitting give the same pieces as for decoded requests', () => {
    const body = Buffer.from(encodeProtobuf('traces', mixedRequest()));
    const model = decodeProtobuf('traces', body);
    validateAndPrune('traces', model);
    const raw = scanTraces(body).traces;
    const modelGroups = groupSpansByTraceId(model);
    const rawGroups = groupSpansByTraceId(raw);
    assert.deepEqual([...rawGroups.keys()], [...modelGroups.keys()]);
    for (const [key, group] of rawGroups) {
      assert.deepEqual(flatten(viaRaw(group)), flatten(viaModel(modelGroups.get(key) as ExportTraceServiceRequest)));
    }
    const pieces = splitSpanTree(raw, 2);
    assert.deepEqual(pieces.map(rawSpanCount), [2, 2, 1]);
    assert.deepEqual(
      pieces.flatMap((p) => flatten(viaRaw(p))),
      flatten(viaModel(model)),
    );
  });

  it('tenant stamping overwrites a client-sent tenant.id exactly as on decoded requests', () => {
    const body = Buffer.from(encodeProtobuf('traces', mixedRequest()));
    const model = decodeProtobuf('traces', body);
    validateAndPrune('traces', model);
    stampTenant('traces', model, 'acme');
    const raw = scanTraces(body).traces;
    stampTenantRaw(raw, 'acme');
    assert.deepEqual(flatten(viaRaw(raw)), flatten(viaModel(model)));
    for (const rs of viaRaw(raw).resourceSpans ?? [])
      assert.deepEqual(
        rs.resource?.attributes?.filter((a) => a.key === 'tenant.id'),
        [kv('tenant.id', 'acme')],
      );
  });

  it('property: mutated bodies are rejected with the same error, or carry the same data', async () => {
    const seeds = [
      Buffer.from(encodeProtobuf('traces', mixedRequest())),
      Buffer.from(traceProtobuf(await makeSpans(2, 3))),
    ];
    fc.assert(
      fc.property(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (which, edits, cut) => {
          const b = Buffer.from(seeds[which] as Buffer);
          for (const [at, v] of edits) b[at % b.length] = v;
          assertSameAsDecoding(b);
          assertSameAsDecoding(b.subarray(0, cut % (b.length + 1)));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
