/**
 * Pipeline throughput: spans/s of the default pipeline (collector-config/sieve.yaml) over 512-span
 * batches with 20 attributes (some with PII), vs no processors, both including protobuf decode+encode
 * as the receiver does. Run: node --import tsx test/bench/pipeline.bench.ts
 */
import { loadSieveConfig } from '../../src/config/load.js';
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../src/otlp/model.js';

const env = {
  ...process.env,
  SIEVE_HASH_KEY: process.env.SIEVE_HASH_KEY ?? 'bench-key',
};
const cfg = loadSieveConfig('collector-config/sieve.yaml', { env });
const pipeline = cfg.pipelines.traces;
if (!pipeline) throw new Error('no traces pipeline');
const tracesPipeline = pipeline;

function makeBatch(n: number): Uint8Array {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const attrs: KeyValue[] = [
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.route', value: { stringValue: '/api/v1/orders/{id}' } },
      {
        key: 'url.full',
        value: {
          stringValue: `https://shop.example.com/api/v1/orders/${i}?ref=abc`,
        },
      },
      { key: 'http.response.status_code', value: { intValue: 200 } },
      { key: 'server.address', value: { stringValue: 'shop.example.com' } },
      { key: 'user.id', value: { stringValue: `user-${i % 100}` } },
      { key: 'session.id', value: { stringValue: `sess-${i}` } },
      { key: 'client.address', value: { stringValue: `10.1.${i % 255}.7` } },
      {
        key: 'user_agent.original',
        value: {
          stringValue: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0.0.0',
        },
      },
      { key: 'db.system', value: { stringValue: 'postgresql' } },
      {
        key: 'db.statement',
        value: {
          stringValue: 'SELECT * FROM orders WHERE id = $1 AND tenant = $2',
        },
      },
      {
        key: 'customer.email',
        value: { stringValue: i % 4 === 0 ? `alice${i}@corp.io` : 'n/a' },
      },
      {
        key: 'note',
        value: {
          stringValue: i % 8 === 0 ? 'card 4111 1111 1111 1111 declined' : 'ok',
        },
      },
      { key: 'order.id', value: { stringValue: `ord-${1000000 + i}` } },
      {
        key: 'request.id',
        value: { stringValue: '550e8400-e29b-41d4-a716-446655440000' },
      },
      { key: 'app.version', value: { stringValue: '1.2.3.4-beta' } },
      { key: 'retry.count', value: { intValue: i % 3 } },
      { key: 'cache.hit', value: { boolValue: i % 2 === 0 } },
      { key: 'duration.ms', value: { doubleValue: 12.5 } },
      {
        key: 'http.request.header.authorization',
        value: { stringValue: 'Bearer abcdefghijklmnopqrstuvwxyz' },
      },
    ];
    spans.push({
      traceId: Buffer.alloc(16, i % 256),
      spanId: Buffer.alloc(8, (i + 1) % 256),
      name: 'GET /api/v1/orders/{id}',
      kind: 2,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000005000000',
      attributes: attrs,
      status: { code: 1 },
    });
  }
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: {
          attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }],
        },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  };
  return encodeProtobuf('traces', req);
}

const batch = makeBatch(512);
/** CPU time of this process (user + system) per 1,000 spans: steadier than rates on a shared machine */
let lastCpuMsPer1k = 0;
function run(withPipeline: boolean, seconds: number): number {
  const end = performance.now() + seconds * 1000;
  let spans = 0;
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    let req = decodeProtobuf('traces', batch);
    if (withPipeline) req = tracesPipeline.process(req).request;
    encodeProtobuf('traces', req);
    spans += 512;
  }
  const cpu = process.cpuUsage(cpu0);
  lastCpuMsPer1k = (cpu.user + cpu.system) / 1000 / (spans / 1000);
  return (spans / seconds) | 0;
}
/** pipeline.process alone on pre-decoded batches (decode/encode excluded). */
function runProcessOnly(seconds: number): number {
  const reqs = Array.from({ length: 64 }, () => decodeProtobuf('traces', batch));
  const end = performance.now() + seconds * 1000;
  let spans = 0;
  let i = 0;
  let busy = 0;
  while (performance.now() < end) {
    if (i === reqs.length) {
      for (let j = 0; j < reqs.length; j++) reqs[j] = decodeProtobuf('traces', batch);
      i = 0;
    }
    const t0 = performance.now();
    tracesPipeline.process(reqs[i++] as ExportTraceServiceRequest);
    busy += performance.now() - t0;
    spans += 512;
  }
  return Math.round(spans / (busy / 1000));
}
const secs = Number(process.env.BENCH_SECONDS ?? 3);
run(true, 0.5);
const base = run(false, secs);
const baseCpu = lastCpuMsPer1k;
const piped = run(true, secs);
const pipedCpu = lastCpuMsPer1k;
const pipelineOnly = 1 / (1 / piped - 1 / base);
const processOnly = runProcessOnly(secs);
console.log(
  JSON.stringify({
    bench: 'pipeline',
    batch: 512,
    attributes: 20,
    decode_encode_only_spans_per_s: base,
    default_pipeline_spans_per_s: piped,
    pipeline_only_spans_per_s: Math.round(pipelineOnly),
    process_only_spans_per_s: processOnly,
    pipeline_cost_at_100k_receiver_pct: Math.round((100000 / pipelineOnly) * 100),
    slowdown_pct: Math.round((1 - piped / base) * 100),
    decode_encode_cpu_ms_per_1k_spans: Number(baseCpu.toFixed(2)),
    default_pipeline_cpu_ms_per_1k_spans: Number(pipedCpu.toFixed(2)),
    pipeline_only_cpu_ms_per_1k_spans: Number((pipedCpu - baseCpu).toFixed(2)),
  }),
);
