/**
 * Every AI dialect, end to end: spans built with the attribute names each library emits, exported by
 * the real OpenTelemetry JS SDK (OTLP/HTTP protobuf and JSON) to `sieve all` (ai-agents preset),
 * through Kafka and the loader into ClickHouse; provider, model, tokens and cost are checked in
 * otel_traces and llm_1m_v. Costs are worked out by hand from collector-config/pricing.yaml.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { deleteTopics, presetWithTopics } from '../support/kafka-harness.js';
import { startSieveAll, waitFor200 } from '../support/sieve-process.js';
import { until } from '../support/until.js';

const id = randomBytes(4).toString('hex');
const database = `aidial_${id}`;
const prefix = `aidial_${id}`;
const topics = ['otlp_spans', 'otlp_logs', 'otlp_metrics'].map((t) => `${prefix}_${t}`);
const clickhouse = createClient({ url: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123', database: 'default' });
const dir = mkdtempSync(join(tmpdir(), 'sieve-aidial-'));
let sieve: ChildProcess;
let ports: { otlp: number; receiverOps: number; loaderOps: number };

interface SpanSpec {
  name: string;
  attributes: Attributes;
  kind?: SpanKind;
  children?: SpanSpec[];
}
interface Case {
  dialect: string;
  resource?: Attributes;
  spans: SpanSpec[];
  /** what the model-call span must read as */
  want: { provider: string; model: string; input: number; output: number; cost: number; dialect: string };
  /** what llm_1m_v must sum to for the service */
  rollup: { calls: number; input: number; output: number; cost: number };
}

const CASES: Case[] = [
  {
    dialect: 'otel_genai',
    spans: [
      {
        name: 'chat gpt-4o',
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 1000,
          'gen_ai.usage.output_tokens': 200,
          'gen_ai.usage.cache_read.input_tokens': 400,
        },
      },
    ],
    // 600 uncached × 2.5 + 400 cache-read × 1.25 + 200 × 10 per million
    want: {
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      input: 1000,
      output: 200,
      cost: 0.004,
      dialect: 'otel_genai',
    },
    rollup: { calls: 1, input: 1000, output: 200, cost: 0.004 },
  },
  {
    dialect: 'openllmetry',
    spans: [
      {
        // OpenLLMetry's OpenAI instrumentation: gen_ai.system, llm.request.type, deprecated usage names
        name: 'openai.chat',
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.system': 'OpenAI',
          'llm.request.type': 'chat',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
          'gen_ai.usage.prompt_tokens': 1000,
          'gen_ai.usage.completion_tokens': 500,
          'llm.usage.total_tokens': 1500,
          'traceloop.workflow.name': 'triage',
        },
      },
      {
        // older OpenLLMetry: llm.vendor / llm.usage.*, no operation name at all
        name: 'anthropic.completion',
        kind: SpanKind.CLIENT,
        attributes: {
          'llm.vendor': 'Anthropic',
          'llm.request.model': 'claude-3-5-haiku-20241022',
          'llm.usage.prompt_tokens': 2000,
          'llm.usage.completion_tokens': 100,
        },
      },
    ],
    // (1000 × 0.15 + 500 × 0.6) / 1e6
    want: {
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      input: 1000,
      output: 500,
      cost: 0.00045,
      dialect: 'otel_genai,otel_genai_deprecated,openllmetry',
    },
    // + (2000 × 0.8 + 100 × 4) / 1e6 = 0.002 for the span without an operation name
    rollup: { calls: 2, input: 3000, output: 600, cost: 0.00245 },
  },
  {
    dialect: 'openinference',
    spans: [
      {
        name: 'ChatOpenAI',
        kind: SpanKind.INTERNAL,
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.provider': 'openai',
          'llm.system': 'openai',
          'llm.model_name': 'gpt-4.1',
          'llm.token_count.prompt': 3000,
          'llm.token_count.completion': 300,
          'llm.token_count.total': 3300,
          'llm.token_count.prompt_details.cache_read': 1000,
          'session.id': 'sess-1',
        },
      },
      { name: 'calculator', attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': 'calculator' } },
    ],
    // (2000 × 2 + 1000 × 0.5 + 300 × 8) / 1e6
    want: { provider: 'openai', model: 'gpt-4.1', input: 3000, output: 300, cost: 0.0069, dialect: 'openinference' },
    rollup: { calls: 2, input: 3000, output: 300, cost: 0.0069 },
  },
  {
    dialect: 'vercel_ai',
    spans: [
      {
        // ai.generateText wraps its doGenerate step: both carry the usage, it must count once
        name: 'ai.generateText',
        attributes: {
          'operation.name': 'ai.generateText support-bot',
          'ai.operationId': 'ai.generateText',
          'ai.model.provider': 'anthropic.messages',
          'ai.model.id': 'claude-sonnet-4-20250514',
          'ai.telemetry.functionId': 'support-bot',
          'ai.usage.promptTokens': 5000,
          'ai.usage.completionTokens': 400,
        },
        children: [
          {
            name: 'ai.generateText.doGenerate',
            kind: SpanKind.CLIENT,
            attributes: {
              'operation.name': 'ai.generateText.doGenerate support-bot',
              'ai.operationId': 'ai.generateText.doGenerate',
              'ai.model.provider': 'anthropic.messages',
              'ai.model.id': 'claude-sonnet-4-20250514',
              'ai.response.model': 'claude-sonnet-4-20250514',
              'ai.telemetry.functionId': 'support-bot',
              'ai.usage.inputTokens': 5000,
              'ai.usage.outputTokens': 400,
              'ai.usage.inputTokenDetails.cacheReadTokens': 2000,
              'ai.usage.inputTokenDetails.cacheWriteTokens': 1000,
              'gen_ai.system': 'anthropic.messages',
              'gen_ai.request.model': 'claude-sonnet-4-20250514',
            },
          },
          {
            name: 'ai.toolCall',
            attributes: { 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'lookup_order', 'ai.toolCall.id': 'c1' },
          },
        ],
      },
    ],
    // (2000 uncached × 3 + 2000 × 0.3 + 1000 × 3.75 + 400 × 15) / 1e6
    want: {
      provider: 'anthropic',
      model: 'claude-sonnet-4-20250514',
      input: 5000,
      output: 400,
      cost: 0.01635,
      dialect: 'otel_genai,otel_genai_deprecated,vercel_ai',
    },
    rollup: { calls: 3, input: 5000, output: 400, cost: 0.01635 },
  },
  {
    // the Python example: model/provider/agent on the resource, usage on the span
    dialect: 'flat',
    resource: { model: 'gpt-4.1', provider: 'openai', agent: 'order_bot', route: '/orders' },
    spans: [
      {
        name: 'llm_call',
        attributes: { tokens_prompt: 512, tokens_completion: 128, cost_usd: 0.0032, status: 'ok' },
      },
      { name: 'GET /orders', kind: SpanKind.SERVER, attributes: { 'http.route': '/orders' } },
    ],
    want: { provider: 'openai', model: 'gpt-4.1', input: 512, output: 128, cost: 0.0032, dialect: 'flat' },
    rollup: { calls: 1, input: 512, output: 128, cost: 0.0032 },
  },
];

const PROTOCOLS = ['protobuf', 'json'] as const;
const serviceOf = (c: Case, p: string) => `${c.dialect}-${p}-${id}`;

async function emit(c: Case, protocol: (typeof PROTOCOLS)[number], extra: SpanSpec[] = []): Promise<void> {
  const url = `http://127.0.0.1:${ports.otlp}/v1/traces`;
  const exporter = protocol === 'protobuf' ? new ProtoTraceExporter({ url }) : new JsonTraceExporter({ url });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceOf(c, protocol), 'tenant.id': 'acme', ...c.resource }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('dialect-test');
  const run = (s: SpanSpec, ctx = context.active()) => {
    const span = tracer.startSpan(s.name, { kind: s.kind ?? SpanKind.INTERNAL, attributes: s.attributes }, ctx);
    for (const child of s.children ?? []) run(child, trace.setSpan(ctx, span));
    span.end();
  };
  for (const s of [...c.spans, ...extra]) run(s);
  await provider.forceFlush();
  await provider.shutdown();
}

async function rows<T>(query: string): Promise<T[]> {
  return (await (await clickhouse.query({ query, format: 'JSONEachRow' })).json()) as T[];
}

before(async () => {
  const configPath = join(dir, 'sieve.yaml');
  writeFileSync(configPath, presetWithTopics('ai-agents.yaml', prefix));
  writeFileSync(join(dir, 'hash.key'), randomBytes(32).toString('hex'));
  const started = await startSieveAll({
    configPath,
    hashKeyFile: join(dir, 'hash.key'),
    loaderGroup: `aidial-${id}`,
    database,
  });
  sieve = started.child;
  ports = started.ports;
  for (const port of [ports.receiverOps, ports.loaderOps]) await waitFor200(`http://127.0.0.1:${port}/readyz`, started);
});

after(async () => {
  if (sieve && sieve.exitCode === null) sieve.kill('SIGKILL');
  await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => {});
  await clickhouse.close();
  await deleteTopics([...topics, ...topics.map((t) => `${t}.dlq`)]);
  rmSync(dir, { recursive: true, force: true });
});

const spanCount = (c: Case): number => {
  const n = (s: SpanSpec): number => 1 + (s.children ?? []).reduce((a, x) => a + n(x), 0);
  return c.spans.reduce((a, s) => a + n(s), 0);
};

describe('AI dialects through receiver → Kafka → loader → ClickHouse', () => {
  for (const c of CASES)
    for (const protocol of PROTOCOLS)
      test(`${c.dialect} over OTLP/HTTP ${protocol}`, async () => {
        await emit(c, protocol);
        const svc = serviceOf(c, protocol);
        await until(
          `${svc}: ${spanCount(c)} spans`,
          async () => {
            const [r] = await rows<{ n: string }>(
              `SELECT count() AS n FROM ${database}.otel_traces WHERE ServiceName = '${svc}'`,
            );
            return Number(r?.n) >= spanCount(c);
          },
          90_000,
        );
        const [span] = await rows<Record<string, string | number>>(
          `SELECT GenAiProvider, if(GenAiResponseModel != '', GenAiResponseModel, GenAiRequestModel) AS Model,
             GenAiInputTokens, GenAiOutputTokens, GenAiCostUsd, GenAiDialect, GenAiCostSource
           FROM ${database}.otel_traces WHERE ServiceName = '${svc}' AND GenAiBillable = 1 AND GenAiDialect != ''
             AND GenAiInputTokens = ${c.want.input}`,
        );
        assert.ok(span, `${svc}: no model-call span with ${c.want.input} input tokens`);
        assert.equal(span.GenAiProvider, c.want.provider);
        assert.equal(span.Model, c.want.model);
        assert.equal(Number(span.GenAiInputTokens), c.want.input);
        assert.equal(Number(span.GenAiOutputTokens), c.want.output);
        assert.ok(
          Math.abs(Number(span.GenAiCostUsd) - c.want.cost) < 1e-12,
          `cost ${span.GenAiCostUsd} ≠ ${c.want.cost}`,
        );
        assert.equal(span.GenAiDialect, c.want.dialect);

        const [r] = await rows<Record<string, string | number>>(
          `SELECT sum(Calls) AS Calls, sum(InputTokens) AS InputTokens, sum(OutputTokens) AS OutputTokens,
             round(sum(CostUsd), 9) AS CostUsd FROM ${database}.llm_1m_v WHERE ServiceName = '${svc}'`,
        );
        assert.deepEqual(
          [Number(r?.Calls), Number(r?.InputTokens), Number(r?.OutputTokens), Number(r?.CostUsd)],
          [c.rollup.calls, c.rollup.input, c.rollup.output, c.rollup.cost],
          `${svc}: llm_1m_v`,
        );
      });

  test('plain spans stay plain; the Python example’s agent and provider come from the resource', async () => {
    const svc = serviceOf(CASES.find((c) => c.dialect === 'flat')!, 'protobuf');
    const got = await rows<Record<string, string>>(
      `SELECT SpanName, GenAiDialect, GenAiAgentName, GenAiRequestModel FROM ${database}.otel_traces
       WHERE ServiceName = '${svc}' ORDER BY SpanName`,
    );
    assert.deepEqual(got, [
      { SpanName: 'GET /orders', GenAiDialect: '', GenAiAgentName: '', GenAiRequestModel: '' },
      { SpanName: 'llm_call', GenAiDialect: 'flat', GenAiAgentName: 'order_bot', GenAiRequestModel: 'gpt-4.1' },
    ]);
  });

  test('bad token counts: the span loads, the value is not summed into cost, it is counted', async () => {
    const c: Case = { ...CASES[0]!, dialect: 'bad', spans: [] };
    const bad = (tokens: number | string, name: string): SpanSpec => ({
      name,
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': tokens,
        'gen_ai.usage.output_tokens': 100,
      },
    });
    await emit(c, 'protobuf', [bad(-5, 'negative'), bad('lots', 'nan'), bad(5e9, 'absurd')]);
    const svc = serviceOf(c, 'protobuf');
    await until(
      'three spans with bad usage',
      async () => {
        const [r] = await rows<{ n: string }>(
          `SELECT count() AS n FROM ${database}.otel_traces WHERE ServiceName = '${svc}'`,
        );
        return Number(r?.n) >= 3;
      },
      90_000,
    );
    const got = await rows<Record<string, string | number>>(
      `SELECT SpanName, GenAiInputTokens, GenAiCostUsd, GenAiCostSource FROM ${database}.otel_traces
       WHERE ServiceName = '${svc}' ORDER BY SpanName`,
    );
    for (const r of got) {
      assert.equal(Number(r.GenAiInputTokens), 0, String(r.SpanName));
      assert.equal(r.GenAiCostSource, 'invalid_usage');
      assert.ok(Math.abs(Number(r.GenAiCostUsd) - 0.001) < 1e-12, 'only the 100 output tokens are priced');
    }
    const metrics = await (await fetch(`http://127.0.0.1:${ports.loaderOps}/metrics`)).text();
    const m = /sieve_loader_genai_invalid_usage_total\{field="input_tokens",dialect="otel_genai"\} (\d+)/.exec(metrics);
    assert.ok(
      m && Number(m[1]) >= 3,
      metrics
        .split('\n')
        .filter((l) => l.includes('invalid'))
        .join('\n'),
    );
  });
});
