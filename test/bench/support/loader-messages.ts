// The loader benchmarks' messages: an ExportTraceServiceRequest of 512 spans with 20 attributes each,
// every span with gen_ai.* keys (a chat operation on one span in four, input tokens on all).
import { createHash } from 'node:crypto';
import { intValue, stringValue } from '../../../src/otlp/anyvalue.js';
import { encodeProtobuf } from '../../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue } from '../../../src/otlp/model.js';

export const SPANS_PER_MESSAGE = 512;

/**
 * Message `b` as protobuf. Span k (= b × 512 + i) starts `startNanos` + k ms and lasts 5 ms; `ids`
 * gives its trace and span ids (random for the loader benchmark, fixed where runs are compared).
 */
export function loaderBenchMessage(
  b: number,
  startNanos: bigint,
  ids: (k: number) => { traceId: Uint8Array; spanId: Uint8Array },
): Buffer {
  const spans = [];
  for (let i = 0; i < SPANS_PER_MESSAGE; i++) {
    const k = b * SPANS_PER_MESSAGE + i;
    const attributes: KeyValue[] = [];
    for (let j = 0; j < 18; j++) attributes.push({ key: `attr.key_${j}`, value: stringValue(`value-${k % 97}-${j}`) });
    attributes.push({ key: 'gen_ai.operation.name', value: stringValue(k % 4 === 0 ? 'chat' : '') });
    attributes.push({ key: 'gen_ai.usage.input_tokens', value: intValue(k % 1000) });
    const start = startNanos + BigInt(k) * 1_000_000n;
    spans.push({
      ...ids(k),
      name: `GET /api/${k % 20}`,
      kind: 2,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 5_000_000n).toString(),
      attributes,
      status: { code: k % 50 === 0 ? 2 : 1 },
    });
  }
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: stringValue(`svc${b % 5}`) },
            { key: 'tenant.id', value: stringValue('t') },
          ],
        },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  };
  return Buffer.from(encodeProtobuf('traces', req));
}

/** a fixed start for messages compared across runs and builds */
const FIXED_START = 1_764_000_000_000n * 1_000_000n;
const digestBytes = (s: string, n: number) => createHash('md5').update(s).digest().subarray(0, n);

/** Messages 0 … n−1 with ids and times derived from the span's number: the same bytes in every process. */
export function fixedLoaderBenchMessages(n: number): Buffer[] {
  return Array.from({ length: n }, (_, b) =>
    loaderBenchMessage(b, FIXED_START, (k) => ({ traceId: digestBytes(`t${k}`, 16), spanId: digestBytes(`s${k}`, 8) })),
  );
}
