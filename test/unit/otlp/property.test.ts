import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeJson,
  decodeProtobuf,
  encodeJson,
  encodeProtobuf,
  OtlpDecodeError,
  toOtlpJsonObject,
} from '../../../src/otlp/codec.js';
import type { Signal } from '../../../src/otlp/model.js';
import {
  logsProtobuf,
  makeLogRecords,
  makeResourceMetrics,
  makeSpans,
  metricsProtobuf,
  traceProtobuf,
} from './fixtures.js';

const seeds: Record<Signal, Buffer> = {
  traces: Buffer.from(traceProtobuf(await makeSpans(3, 4))),
  logs: Buffer.from(logsProtobuf(await makeLogRecords(3))),
  metrics: Buffer.from(metricsProtobuf(await makeResourceMetrics())),
};
const SIGNALS: Signal[] = ['traces', 'logs', 'metrics'];

/** Runs fn; anything thrown must be an OtlpDecodeError. Whatever decodes must re-encode. */
function decodesOrRejects(signal: Signal, fn: () => unknown): void {
  try {
    const req = fn() as Parameters<typeof encodeProtobuf>[1];
    // encoding is canonical: decode → encode is a fixed point, and JSON carries the same data
    const pb = Buffer.from(encodeProtobuf(signal, req));
    assert.deepEqual(Buffer.from(encodeProtobuf(signal, decodeProtobuf(signal, pb))), pb);
    assert.deepEqual(Buffer.from(encodeProtobuf(signal, decodeJson(signal, encodeJson(signal, req)))), pb);
    assert.deepEqual(decodeJson(signal, toOtlpJsonObject(signal, req)), decodeJson(signal, encodeJson(signal, req)));
  } catch (err) {
    if (!(err instanceof OtlpDecodeError)) throw err;
  }
}

describe('property: malformed input only ever raises OtlpDecodeError', () => {
  for (const signal of SIGNALS) {
    it(`${signal}: random bytes`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
          decodesOrRejects(signal, () => decodeProtobuf(signal, bytes)),
        ),
        { numRuns: 2000 },
      );
    });

    it(`${signal}: mutated SDK payloads (byte edits, truncation, splices)`, () => {
      const seed = seeds[signal];
      const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }));
      fc.assert(
        fc.property(
          fc.array(edit, { minLength: 1, maxLength: 8 }),
          fc.nat(),
          fc.uint8Array({ maxLength: 16 }),
          (edits, cut, junk) => {
            const b = Buffer.from(seed);
            for (const [at, v] of edits) b[at % b.length] = v;
            const c = cut % (b.length + 1);
            const mutated = Buffer.concat([b.subarray(0, c), junk, b.subarray(c)]);
            decodesOrRejects(signal, () => decodeProtobuf(signal, mutated));
            decodesOrRejects(signal, () => decodeProtobuf(signal, b.subarray(0, c)));
          },
        ),
        { numRuns: 2000 },
      );
    });

    it(`${signal}: arbitrary JSON values and texts`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => decodesOrRejects(signal, () => decodeJson(signal, v as object))),
        { numRuns: 1000 },
      );
      fc.assert(
        fc.property(fc.string(), (s) => decodesOrRejects(signal, () => decodeJson(signal, s))),
        { numRuns: 1000 },
      );
    });
  }
});
