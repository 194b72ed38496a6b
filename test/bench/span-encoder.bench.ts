// The loader's span encoder alone (protobuf → otel_traces RowBinary, src/loader/traces-rowbinary.ts),
// no Kafka or ClickHouse: the loader benchmark's messages (512 spans, 20 attributes, every span with
// gen_ai.* keys), CPU µs per span (= ms per 1,000 spans) of the first pass over 40 messages (a fresh
// process: AI dialect tables loaded, code not yet optimised) and the best of ROUNDS passes after it;
// the same in layout 'columns' (the Native insert format), and the Native block of 16 messages.
//   node --import tsx test/bench/span-encoder.bench.ts      (or: npm run bench -- span-encoder)
import { NativeBlockEncoder } from '../../src/loader/native-block.js';
import { TRACE_COLUMNS, traceRowBinary } from '../../src/loader/traces-rowbinary.js';
import { validateProtobuf } from '../../src/otlp/codec.js';
import { fixedLoaderBenchMessages, SPANS_PER_MESSAGE as PER } from './support/loader-messages.js';

const MESSAGES = 40;
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const messages = fixedLoaderBenchMessages(MESSAGES);
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
// layout 'columns' (the Native insert format), and the Native block of 16 messages' columns (an insert)
let columns = Number.POSITIVE_INFINITY;
for (let r = 0; r < ROUNDS; r++)
  columns = Math.min(
    columns,
    pass((m) => traceRowBinary(m, { layout: 'columns' })),
  );
const native = new NativeBlockEncoder(TRACE_COLUMNS);
const byColumn = messages.slice(0, 16).map((m) => Buffer.from(traceRowBinary(m, { layout: 'columns' }).data));
let block = Number.POSITIVE_INFINITY;
for (let r = 0; r < ROUNDS; r++) {
  const c = process.cpuUsage();
  native.encode(
    byColumn,
    byColumn.map(() => PER),
  );
  const u = process.cpuUsage(c);
  block = Math.min(block, (u.user + u.system) / (16 * PER));
}
const rowBytes = traceRowBinary(messages[0]!).data.length;
const blockBytes = native
  .encode(
    byColumn,
    byColumn.map(() => PER),
  )
  .reduce((n, b) => n + b.length, 0);
console.log(
  JSON.stringify({
    bench: 'span-encoder',
    spans,
    cpuMsPer1kSpansFirstPass: round(cold),
    cpuMsPer1kSpans: round(best),
    columnsCpuMsPer1kSpans: round(columns),
    nativeBlockCpuMsPer1kSpans: round(block),
    // what validating whole messages (as decoding would) costs; the encoder checks span attributes itself
    fullValidationCpuMsPer1kSpans: round(validate),
    messageBytesPerSpan: Math.round(messages[0]!.length / PER),
    rowBytesPerSpan: Math.round(rowBytes / PER),
    nativeBytesPerSpan: Math.round(blockBytes / (16 * PER)),
  }),
);
