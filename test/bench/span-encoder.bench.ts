// The loader's span encoder alone (protobuf → otel_traces RowBinary, src/loader/traces-rowbinary.ts),
// no Kafka or ClickHouse: the loader benchmark's messages (512 spans, 20 attributes, every span with
// gen_ai.* keys), CPU µs per span (= ms per 1,000 spans) of the first pass over 40 messages (a fresh
// process: AI dialect tables loaded, code not yet optimised) and the best of ROUNDS passes after it.
//   node --import tsx test/bench/span-encoder.bench.ts      (or: npm run bench -- span-encoder)
import { createHash } from 'node:crypto';
import { traceRowBinary } from '../../src/loader/traces-rowbinary.js';
import { intValue, stringValue } from '../../src/otlp/anyvalue.js';
import { encodeProtobuf, validateProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue } from '../../src/otlp/model.js';

const PER = 512;
const MESSAGES = 40;
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const start0 = 1_764_000_000_000n * 1_000_000n;
const id = (s: string, n: number) => createHash('md5').update(s).digest().subarray(0, n);

function message(b: number): Buffer {
  const spans = [];
  for (let i = 0; i < PER; i++) {
    const k = b * PER + i;
    const attributes: KeyValue[] = [];
    for (let j = 0; j < 18; j++) attributes.push({ key: `attr.key_${j}`, value: stringValue(`value-${k % 97}-${j}`) });
    attributes.push({ key: 'gen_ai.operation.name', value: stringValue(k % 4 === 0 ? 'chat' : '') });
    attributes.push({ key: 'gen_ai.usage.input_tokens', value: intValue(k % 1000) });
    const start = start0 + BigInt(k) * 1_000_000n;
    spans.push({
      traceId: id(`t${k}`, 16),
      spanId: id(`s${k}`, 8),
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

const messages = Array.from({ length: MESSAGES }, (_, b) => message(b));
const spans = MESSAGES * PER;
/** CPU µs per span of one pass of `f` over the messages */
function pass(f: (m: Buffer) => unknown): number {
  const c = process.cpuUsage();
  for (const m of messages) f(m);
  const u = process.cpuUsage(c);
  return (u.user + u.system) / spans;
}
const round = (x: number) => Number(x.toFixed(2));

const cold = pass((m) => traceRowBinary(m));
let best = Number.POSITIVE_INFINITY;
for (let r = 0; r < ROUNDS; r++)
  best = Math.min(
    best,
    pass((m) => traceRowBinary(m)),
  );
let validate = Number.POSITIVE_INFINITY;
for (let r = 0; r < ROUNDS; r++)
  validate = Math.min(
    validate,
    pass((m) => validateProtobuf('traces', m)),
  );
const rowBytes = traceRowBinary(messages[0]!).data.length;
console.log(
  JSON.stringify({
    bench: 'span-encoder',
    spans,
    cpuMsPer1kSpansFirstPass: round(cold),
    cpuMsPer1kSpans: round(best),
    // what validating whole messages (as decoding would) costs; the encoder checks span attributes itself
    fullValidationCpuMsPer1kSpans: round(validate),
    messageBytesPerSpan: Math.round(messages[0]!.length / PER),
    rowBytesPerSpan: Math.round(rowBytes / PER),
  }),
);
