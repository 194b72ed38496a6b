/**
 * Transform processor cost: CPU ms per 1,000 spans of a typical 3-statement OTTL config (and of a
 * 3-statement config that hashes), on decoded 512-span × 20-attribute batches, next to the cost of
 * protobuf decode + encode that every request pays in the receiver.
 * Run: node --import tsx test/bench/transform.bench.ts   (BENCH_SECONDS=3 per measurement)
 */
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../src/otlp/model.js';
import { createTransformProcessor, type TransformConfig } from '../../src/pipeline/transform.js';

const env = { SIEVE_HASH_KEY: 'bench-key' };
const SPANS = 512;

const TYPICAL: TransformConfig = {
  error_mode: 'ignore',
  trace_statements: [
    {
      context: 'span',
      statements: [
        'set(name, Concat([attributes["agent"], attributes["http.route"]], ":")) where name == ""',
        'replace_pattern(attributes["url.full"], "token=[^&]+", "token=***")',
        'delete_matching_keys(attributes, "^http\\\\.request\\\\.header\\\\.")',
      ],
    },
  ],
};
const HASHING: TransformConfig = {
  trace_statements: [
    {
      context: 'span',
      statements: [
        'set(attributes["user.id"], SHA256(attributes["user.id"])) where attributes["user.id"] != nil',
        'replace_pattern(attributes["customer.email"], "^(.*)@(.*)$", "$$1", SHA256)',
        'keep_keys(attributes, ["http.route", "user.id", "customer.email", "agent", "gen_ai.request.model"])',
      ],
    },
  ],
};

function makeBatch(n: number): Uint8Array {
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const s = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
    const attrs: KeyValue[] = [
      s('http.request.method', 'POST'),
      s('http.route', '/api/v1/chat'),
      s('url.full', `https://agents.example.com/api/v1/chat?session=${i}&token=tok${i}xyz`),
      { key: 'http.response.status_code', value: { intValue: 200 } },
      s('agent', i % 2 ? 'planner' : 'retriever'),
      s('user.id', `user-${i % 100}`),
      s('session.id', `sess-${i}`),
      s('customer.email', `alice${i % 50}@corp.io`),
      s('gen_ai.request.model', 'gpt-4o-mini'),
      s('gen_ai.provider.name', 'openai'),
      { key: 'gen_ai.usage.input_tokens', value: { intValue: 1200 } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 250 } },
      s('http.request.header.authorization', 'Bearer abcdefghijklmnopqrstuvwxyz'),
      s('http.request.header.cookie', 'sid=123'),
      s('server.address', 'agents.example.com'),
      s('request.id', '550e8400-e29b-41d4-a716-446655440000'),
      s('app.version', '1.2.3'),
      { key: 'retry.count', value: { intValue: i % 3 } },
      { key: 'cache.hit', value: { boolValue: i % 2 === 0 } },
      { key: 'duration.ms', value: { doubleValue: 12.5 } },
    ];
    spans.push({
      traceId: Buffer.alloc(16, (i % 255) + 1),
      spanId: Buffer.alloc(8, ((i + 1) % 255) + 1),
      name: i % 4 === 0 ? '' : 'chat',
      kind: 2,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000005000000',
      attributes: attrs,
    });
  }
  const req: ExportTraceServiceRequest = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  };
  return encodeProtobuf('traces', req);
}

const batch = makeBatch(SPANS);
const seconds = Number(process.env.BENCH_SECONDS ?? 3);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** CPU ms per 1,000 spans of `work` on fresh decoded batches (decoding done outside the measurement). */
function measure(work: ((r: ExportTraceServiceRequest) => void) | undefined, withCodec: boolean): number {
  const pool = 32;
  let reqs = Array.from({ length: pool }, () => decodeProtobuf('traces', batch));
  let cpu = 0;
  let spans = 0;
  const end = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    if (i === pool) {
      reqs = Array.from({ length: pool }, () => decodeProtobuf('traces', batch));
      i = 0;
    }
    const t0 = cpuMs();
    if (withCodec) {
      const r = decodeProtobuf('traces', batch);
      encodeProtobuf('traces', r);
    } else work?.(reqs[i] as ExportTraceServiceRequest);
    cpu += cpuMs() - t0;
    i++;
    spans += SPANS;
  }
  return (cpu / spans) * 1000;
}

const typical = createTransformProcessor('transform', TYPICAL, env);
const hashing = createTransformProcessor('transform/hash', HASHING, env);
const runTypical = (r: ExportTraceServiceRequest) => void typical.traces?.(r);
const runHashing = (r: ExportTraceServiceRequest) => void hashing.traces?.(r);
measure(runTypical, false); // warm-up
const codec = measure(undefined, true);
const t = measure(runTypical, false);
const h = measure(runHashing, false);
console.log(
  JSON.stringify({
    bench: 'transform',
    batch: SPANS,
    attributes: 20,
    decode_encode_cpu_ms_per_1k_spans: +codec.toFixed(2),
    typical_3_statements_cpu_ms_per_1k_spans: +t.toFixed(2),
    hashing_3_statements_cpu_ms_per_1k_spans: +h.toFixed(2),
    typical_vs_decode_encode_pct: Math.round((t / codec) * 100),
  }),
);
