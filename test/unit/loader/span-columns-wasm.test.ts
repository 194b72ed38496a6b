// The span encoder's WebAssembly module (src/loader/wasm/span-columns) takes the usual spans of layout
// 'columns': what it writes must be exactly what the TypeScript walk writes, for any span it takes, and
// the spans it declines (unusual layouts, faults) must come out as before, in order, with the same errors.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { NativeBlockEncoder } from '../../../src/loader/native-block.js';
import { parsePricing } from '../../../src/loader/pricing.js';
import { TRACE_COLUMNS, traceRowBinary } from '../../../src/loader/traces-rowbinary.js';
import { traceRows } from '../../../src/loader/traces-rows.js';
import { spansTaken } from '../../../src/loader/wasm/span-columns.js';
import { SPAN_COLUMNS_SOURCE_SHA256 } from '../../../src/loader/wasm/span-columns.wasm.js';
import { decodeProtobuf, encodeProtobuf } from '../../../src/otlp/codec.js';
import type { AnyValue, ExportTraceServiceRequest } from '../../../src/otlp/model.js';
import { loaderBenchMessage } from '../../bench/support/loader-messages.js';
import { readNativeBlock } from '../../support/native-reader.js';
import { readRowBinary } from '../../support/row-binary-reader.js';

const pricing = parsePricing(
  'providers:\n  openai:\n    gpt-4o: {input_per_million: 2.5, output_per_million: 10, cache_read_per_million: 1.25}\n',
);
const crate = new URL('../../../src/loader/wasm/span-columns/', import.meta.url);

/**
 * The messages' rows in layout 'columns' (one Native block, read back) and in layout 'rows' (the
 * TypeScript walk alone), and how many spans the module took for them.
 */
function bothLayouts(messages: Buffer[]) {
  const takenBefore = spansTaken();
  const columns = messages.map((m) => traceRowBinary(m, { pricing, layout: 'columns' }));
  const taken = spansTaken() - takenBefore;
  const rows = messages.map((m) => traceRowBinary(m, { pricing }));
  const native = new NativeBlockEncoder(TRACE_COLUMNS);
  const block = readNativeBlock(
    native.encode(
      columns.map((c) => Buffer.from(c.data)),
      columns.map((c) => c.rows),
    ),
  );
  return {
    byColumn: block.rows,
    byRow: readRowBinary(Buffer.concat(rows.map((r) => Buffer.from(r.data))), TRACE_COLUMNS),
    taken,
  };
}

// ---- spans that share their attribute keys, as one instrumentation's spans do ----
const keyList = fc.uniqueArray(
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.oneof(
        fc.constantFrom('http.route', 'gen_ai.request.model', 'gen_ai.usage.input_tokens', 'gen_ai.system', 'ключ'),
        fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }),
      ),
    },
    // longer than a key set holds (127 bytes): such spans are declined
    { weight: 1, arbitrary: fc.string({ minLength: 130, maxLength: 150 }) },
  ),
  { minLength: 1, maxLength: 8 },
);
// mostly what the module takes (strings, ints, bools); now and then what it declines
const value: fc.Arbitrary<AnyValue> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }).map((s) => ({ stringValue: s })) },
  { weight: 1, arbitrary: fc.constantFrom('openai', 'gpt-4o', 'chat').map((s) => ({ stringValue: s })) },
  {
    weight: 2,
    arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: n.toString() })),
  },
  { weight: 1, arbitrary: fc.boolean().map((b) => ({ boolValue: b })) },
  { weight: 1, arbitrary: fc.double().map((d) => ({ doubleValue: d })) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const nanos = fc
  .oneof(
    { weight: 60, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }) },
    // past 2262: the message is refused
    { weight: 1, arbitrary: fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }) },
  )
  .map((n) => n.toString());
const text = fc.string({ maxLength: 200, unit: 'grapheme' });
const ids = (n: number) => fc.oneof(fc.uint8Array({ minLength: n, maxLength: n }), fc.uint8Array({ maxLength: 20 }));
const spanFields = fc.record(
  {
    traceId: ids(16),
    spanId: ids(8),
    parentSpanId: ids(8),
    traceState: text,
    name: text,
    kind: fc.integer({ min: -2, max: 7 }),
    startTimeUnixNano: nanos,
    endTimeUnixNano: nanos,
    status: fc.record({ code: fc.integer({ min: -1, max: 4 }), message: text }, { requiredKeys: [] }),
    droppedAttributesCount: fc.nat({ max: 300 }),
    flags: fc.nat(),
  },
  { requiredKeys: [] },
);
const sharedKeysRequest: fc.Arbitrary<ExportTraceServiceRequest> = keyList.chain((keys) =>
  fc
    .array(
      fc.record({
        fields: spanFields,
        values: fc.array(value, { minLength: keys.length, maxLength: keys.length }),
        // a span now and then with fewer keys, or an event (both declined)
        fewerKeys: fc.nat({ max: 9 }),
        event: fc.nat({ max: 9 }),
      }),
      { minLength: 1, maxLength: 12 },
    )
    .map((spans) => ({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            {
              spans: spans.map((s) => ({
                ...s.fields,
                attributes: keys
                  .slice(0, s.fewerKeys === 0 ? keys.length - 1 : keys.length)
                  .map((key, i) => ({ key, value: s.values[i] as AnyValue })),
                events: s.event === 0 ? [{ name: 'e', timeUnixNano: '1' }] : [],
              })),
            },
          ],
        },
      ],
    })),
);

describe('the span columns WebAssembly module', () => {
  test('was built from the crate as it is (bash src/loader/wasm/span-columns/build.sh rebuilds it)', () => {
    const source = createHash('sha256');
    for (const f of ['Cargo.toml', 'src/lib.rs']) source.update(readFileSync(new URL(f, crate)));
    assert.equal(source.digest('hex'), SPAN_COLUMNS_SOURCE_SHA256);
  });

  test('spans that share their keys: the columns it writes are the rows the TypeScript walk writes', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.array(sharedKeysRequest, { minLength: 1, maxLength: 2 }), (reqs) => {
        const messages = reqs.map((r) => Buffer.from(encodeProtobuf('traces', r)));
        let out: ReturnType<typeof bothLayouts>;
        try {
          out = bothLayouts(messages);
        } catch (err) {
          // a start time past 2262: refused in both layouts, with the reference's error
          const ref = (() => {
            try {
              for (const m of messages) traceRows(decodeProtobuf('traces', m), { pricing });
            } catch (e) {
              return e as Error;
            }
          })();
          assert.equal((err as Error).message, ref?.message);
          return;
        }
        assert.deepEqual(out.byColumn, out.byRow);
        taken += out.taken;
      }),
      { numRuns: 300 },
    );
    // the property ran through the module, not only around it
    assert.ok(taken > 300, `the module took ${taken} spans`);
  });

  test('spans it takes, with bytes changed at random: refused exactly when decoding refuses them, read alike otherwise', () => {
    const mutated = sharedKeysRequest.chain((req) => {
      const bytes = Buffer.from(encodeProtobuf('traces', req));
      const change = fc.record({ at: fc.nat({ max: bytes.length - 1 }), to: fc.nat({ max: 255 }) });
      return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
        const m = Buffer.from(bytes);
        for (const { at, to } of changes) m[at] = to;
        return m;
      });
    });
    fc.assert(
      fc.property(mutated, (m) => {
        let referenceError: Error | undefined;
        try {
          traceRows(decodeProtobuf('traces', m), { pricing });
        } catch (err) {
          referenceError = err as Error;
        }
        let error: Error | undefined;
        try {
          traceRowBinary(m, { pricing, layout: 'columns' });
        } catch (err) {
          error = err as Error;
        }
        assert.equal(error?.message, referenceError?.message);
        if (error === undefined) {
          const out = bothLayouts([m]);
          assert.deepEqual(out.byColumn, out.byRow);
        }
      }),
      { numRuns: 500 },
    );
  });

  test("the loader benchmark's messages: all spans but the very first go through it, and read alike", () => {
    const start = 1_764_000_000_000n * 1_000_000n;
    const messages = [0, 1, 2].map((b) =>
      loaderBenchMessage(b, start, (k) => ({
        traceId: Buffer.alloc(16, k),
        spanId: Buffer.alloc(8, k + 1),
      })),
    );
    const out = bothLayouts(messages);
    assert.deepEqual(out.byColumn, out.byRow);
    assert.ok(out.taken >= 3 * 512 - 1, `taken: ${out.taken}`);
  });

  test('a message whose columns outgrow its streams, and one larger than its memory, read alike', () => {
    // 3,000 spans with 200-byte names: 600 KB of SpanName, past a stream's 256 KB
    const longNames = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: Array.from({ length: 3000 }, (_, i) => ({
                name: `${i}`.padEnd(200, 'n'),
                attributes: [{ key: 'k', value: { intValue: i } }],
              })),
            },
          ],
        },
      ],
    };
    // 12 MB of attribute values, more than any message before: the module's memory grows for it
    const big = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: Array.from({ length: 120 }, (_, i) => ({
                name: 's',
                attributes: [{ key: 'v', value: { stringValue: `${i}`.padEnd(100_000, 'v') } }],
              })),
            },
          ],
        },
      ],
    };
    for (const req of [longNames, big]) {
      const out = bothLayouts([Buffer.from(encodeProtobuf('traces', req))]);
      assert.equal(out.byColumn.length, req.resourceSpans[0]!.scopeSpans[0]!.spans.length);
      assert.deepEqual(out.byColumn, out.byRow);
      assert.ok(out.taken >= out.byColumn.length - 1);
    }
  });
});
