/**
 * The transform processor's CPU cost in the real OpenTelemetry Collector vs in Sieve, same statements,
 * same 512-span × 20-attribute batches. The Collector (OTELCOL, default /work/otelcol/otelcol-sieve,
 * built by test/collector-golden/build.sh) runs otlp → [transform] → debug(basic) twice, with and
 * without the transform; its CPU (/proc/<pid>/stat) per 1,000 spans, difference = the transform.
 * Skipped when the binary is absent. Run: node --import tsx test/bench/transform-collector.bench.ts
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { decodeProtobuf, encodeProtobuf } from '../../src/otlp/codec.js';
import type { ExportTraceServiceRequest, KeyValue, Span } from '../../src/otlp/model.js';
import { createTransformProcessor } from '../../src/pipeline/transform.js';
import { freePort } from '../support/sieve-process.js';

const otelcol = process.env.OTELCOL ?? '/work/otelcol/otelcol-sieve';
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const SPANS = 512;
const STATEMENTS = [
  'set(name, Concat([attributes["agent"], attributes["http.route"]], ":")) where name == ""',
  'replace_pattern(attributes["url.full"], "token=[^&]+", "token=***")',
  'delete_matching_keys(attributes, "^http\\\\.request\\\\.header\\\\.")',
];

function batch(): Uint8Array {
  const spans: Span[] = [];
  for (let i = 0; i < SPANS; i++) {
    const s = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
    spans.push({
      traceId: Buffer.alloc(16, (i % 255) + 1),
      spanId: Buffer.alloc(8, ((i + 1) % 255) + 1),
      name: i % 4 === 0 ? '' : 'chat',
      kind: 2,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000005000000',
      attributes: [
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
      ],
    });
  }
  const req: ExportTraceServiceRequest = {
    resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'bench' }, spans }] }],
  };
  return encodeProtobuf('traces', req);
}

/** user + system CPU ms of a process, from /proc/<pid>/stat (clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function collectorCpuPer1k(withTransform: boolean, body: Uint8Array): Promise<number> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sieve-bench-otelcol-'));
  const cfg = {
    receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${port}` } } } },
    processors: { transform: { trace_statements: [{ context: 'span', statements: STATEMENTS }] } },
    exporters: { debug: { verbosity: 'basic' } },
    service: {
      telemetry: { metrics: { level: 'none' }, logs: { level: 'error' } },
      pipelines: {
        traces: { receivers: ['otlp'], processors: withTransform ? ['transform'] : [], exporters: ['debug'] },
      },
    },
  };
  const file = join(dir, 'otelcol.yaml');
  writeFileSync(file, stringify(cfg));
  const proc = spawn(otelcol, [`--config=${file}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/v1/traces`;
  const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await post()).ok) break;
      } catch {}
      if (i > 150) throw new Error('Collector did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < 20; i++) await post(); // warm-up
    const pid = proc.pid as number;
    const before = procCpuMs(pid);
    const inFlight = 4;
    let sent = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (sent < REQUESTS) {
          sent++;
          const r = await post();
          if (!r.ok) throw new Error(`Collector answered ${r.status}`);
        }
      }),
    );
    return ((procCpuMs(pid) - before) / (REQUESTS * SPANS)) * 1000;
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  }
}

function sieveCpuPer1k(body: Uint8Array): number {
  const p = createTransformProcessor('transform', { trace_statements: [{ context: 'span', statements: STATEMENTS }] });
  let cpu = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const req = decodeProtobuf('traces', body);
    const u0 = process.cpuUsage();
    p.traces?.(req);
    const u = process.cpuUsage(u0);
    cpu += (u.user + u.system) / 1000;
  }
  return (cpu / (REQUESTS * SPANS)) * 1000;
}

if (!existsSync(otelcol)) {
  console.log(
    JSON.stringify({ bench: 'transform-collector', skipped: `${otelcol} not found (test/collector-golden/build.sh)` }),
  );
} else {
  const body = batch();
  sieveCpuPer1k(body); // warm-up
  // alternate the two Collector configs and take medians: single runs differ by ±30 % here
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const without: number[] = [];
  const withT: number[] = [];
  const sieve: number[] = [];
  for (let r = 0; r < rounds; r++) {
    without.push(await collectorCpuPer1k(false, body));
    withT.push(await collectorCpuPer1k(true, body));
    sieve.push(sieveCpuPer1k(body));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  console.log(
    JSON.stringify({
      bench: 'transform-collector',
      batch: SPANS,
      requests: REQUESTS,
      rounds,
      collector_no_processor_cpu_ms_per_1k_spans: without.map((x) => +x.toFixed(2)),
      collector_with_transform_cpu_ms_per_1k_spans: withT.map((x) => +x.toFixed(2)),
      collector_transform_median_cpu_ms_per_1k_spans: +(median(withT) - median(without)).toFixed(2),
      sieve_transform_cpu_ms_per_1k_spans: sieve.map((x) => +x.toFixed(2)),
    }),
  );
}
