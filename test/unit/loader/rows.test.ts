import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { extractGenAi } from '../../../src/loader/genai.js';
import { logRows } from '../../../src/loader/logs-rows.js';
import { metricRows } from '../../../src/loader/metrics-rows.js';
import { computeCost, findModel, loadPricing, parsePricing, pricesAt } from '../../../src/loader/pricing.js';
import { traceRows } from '../../../src/loader/traces-rows.js';
import { doubleValue, intValue, stringValue } from '../../../src/otlp/anyvalue.js';
import { hexToBytes } from '../../../src/otlp/ids.js';
import type { KeyValue } from '../../../src/otlp/model.js';

const kv = (key: string, v: ReturnType<typeof stringValue>): KeyValue => ({ key, value: v });
const res = [
  kv('service.name', stringValue('svc')),
  kv('tenant.id', stringValue('t1')),
  kv('deployment.environment', stringValue('prod')),
];
const pricing = parsePricing(
  'providers:\n  openai:\n    gpt-4o: {input_per_million: 2.5, output_per_million: 10, cache_read_per_million: 1.25}\n    gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.6}\n    gpt: {input_per_million: 1, output_per_million: 1}\n',
);

describe('traceRows', () => {
  test('maps every column incl. ns timestamps, events, links, genai', () => {
    const unknown: string[] = [];
    const rows = traceRows(
      {
        resourceSpans: [
          {
            resource: { attributes: res },
            scopeSpans: [
              {
                scope: { name: 'sc', version: '1.2' },
                spans: [
                  {
                    traceId: hexToBytes('0102030405060708090a0b0c0d0e0f10'),
                    spanId: hexToBytes('1112131415161718'),
                    parentSpanId: hexToBytes('2122232425262728'),
                    traceState: 'a=b',
                    name: 'chat gpt-4o',
                    kind: 3,
                    startTimeUnixNano: '1700000000123456789',
                    endTimeUnixNano: '1700000001123456790',
                    attributes: [
                      kv('gen_ai.system', stringValue('openai')),
                      kv('gen_ai.operation.name', stringValue('chat')),
                      kv('gen_ai.request.model', stringValue('gpt-4o-2024-08-06')),
                      kv('gen_ai.usage.prompt_tokens', intValue(1000)),
                      kv('gen_ai.usage.completion_tokens', intValue(500)),
                      kv('gen_ai.usage.cache_read_input_tokens', intValue(200)),
                      kv('gen_ai.usage.reasoning_tokens', intValue(7)),
                      kv('gen_ai.agent.name', stringValue('planner')),
                      kv('gen_ai.prompt.hash', stringValue('abc')),
                    ],
                    events: [{ timeUnixNano: '1700000000500000001', name: 'ev', attributes: [kv('k', intValue(3))] }],
                    links: [
                      {
                        traceId: hexToBytes('ff'.repeat(16)),
                        spanId: hexToBytes('ee'.repeat(8)),
                        traceState: 'x=y',
                        attributes: [kv('l', stringValue('v'))],
                      },
                    ],
                    status: { code: 2, message: 'boom' },
                  },
                ],
              },
            ],
          },
        ],
      },
      { pricing, onUnknownModel: (p, m) => unknown.push(`${p}/${m}`) },
    );
    assert.equal(rows.length, 1);
    const r = rows[0]!;
    assert.equal(r.Timestamp, '2023-11-14 22:13:20.123456789');
    assert.equal(r.TraceId, '0102030405060708090a0b0c0d0e0f10');
    assert.equal(r.SpanId, '1112131415161718');
    assert.equal(r.ParentSpanId, '2122232425262728');
    assert.equal(r.TraceState, 'a=b');
    assert.equal(r.SpanKind, 'Client');
    assert.equal(r.ServiceName, 'svc');
    assert.equal(r.ScopeName, 'sc');
    assert.equal(r.ScopeVersion, '1.2');
    assert.equal(r.Duration, '1000000001');
    assert.equal(r.StatusCode, 'Error');
    assert.equal(r.StatusMessage, 'boom');
    assert.deepEqual(r['Events.Timestamp'], ['2023-11-14 22:13:20.500000001']);
    assert.deepEqual(r['Events.Name'], ['ev']);
    assert.deepEqual(r['Events.Attributes'], [{ k: '3' }]);
    assert.deepEqual(r['Links.TraceId'], ['ff'.repeat(16)]);
    assert.deepEqual(r['Links.SpanId'], ['ee'.repeat(8)]);
    assert.deepEqual(r['Links.TraceState'], ['x=y']);
    assert.deepEqual(r['Links.Attributes'], [{ l: 'v' }]);
    assert.equal(r.TenantId, 't1');
    assert.equal(r.Environment, 'prod');
    assert.equal(r.GenAiProvider, 'openai');
    assert.equal(r.GenAiOperation, 'chat');
    assert.equal(r.GenAiInputTokens, 1000);
    assert.equal(r.GenAiOutputTokens, 500);
    assert.equal(r.GenAiCacheReadTokens, 200);
    assert.equal(r.GenAiReasoningTokens, 7);
    assert.equal(r.GenAiAgentName, 'planner');
    assert.equal(r.GenAiPromptHash, 'abc');
    assert.equal(r.GenAiCostSource, 'pricing');
    // prefix gpt-4o: 800 input * 2.5 + 500 * 10 + 200 * 1.25 per million
    assert.ok(Math.abs((r.GenAiCostUsd as number) - (800 * 2.5 + 500 * 10 + 200 * 1.25) / 1e6) < 1e-12);
    assert.deepEqual(unknown, []);
  });
});

describe('genai', () => {
  test('new names win; span cost wins; unknown model counted', () => {
    const a = [
      kv('gen_ai.provider.name', stringValue('anthropic')),
      kv('gen_ai.system', stringValue('x')),
      kv('gen_ai.usage.input_tokens', intValue(5)),
      kv('gen_ai.usage.prompt_tokens', intValue(9)),
      kv('gen_ai.usage.cost', doubleValue(0.25)),
      kv('gen_ai.response.model', stringValue('m')),
    ];
    const f = extractGenAi(a, pricing);
    assert.equal(f.GenAiProvider, 'anthropic');
    assert.equal(f.GenAiInputTokens, 5);
    assert.equal(f.GenAiCostUsd, 0.25);
    assert.equal(f.GenAiCostSource, 'span');
    const seen: string[] = [];
    const u = extractGenAi(
      [
        kv('gen_ai.provider.name', stringValue('openai')),
        kv('gen_ai.request.model', stringValue('llama')),
        kv('gen_ai.usage.input_tokens', intValue(5)),
      ],
      pricing,
      (p, m) => seen.push(`${p}/${m}`),
    );
    assert.equal(u.GenAiCostSource, 'unknown_model');
    assert.equal(u.GenAiCostUsd, 0);
    assert.deepEqual(seen, ['openai/llama']);
    assert.equal(extractGenAi([], pricing).GenAiCostSource, '');
  });
  test('pricing: exact, then dated versions of a configured name; shipped pricing.yaml parses', () => {
    const input = (model: string) => {
      const e = findModel(pricing, 'openai', model);
      return e && pricesAt(e, Date.now(), 0)?.input;
    };
    assert.equal(input('gpt-4o-mini'), 0.15);
    assert.equal(input('gpt-4o-mini-2024-07-18'), 0.15);
    assert.equal(input('gpt-4o-2024-08-06'), 2.5);
    assert.equal(input('GPT-4o'), 2.5);
    assert.equal(input('gpt-5'), undefined, 'a configured name is not a prefix of any model');
    assert.equal(input('o1'), undefined);
    const p = { input: 1, output: 2, cacheRead: 1, cacheCreation: 1, reasoning: 2 };
    assert.equal(computeCost(p, { input: 1e6, output: 1e6, cacheRead: 5, cacheCreation: 0, reasoning: 0 }), 3);
    const shipped = loadPricing(resolve(import.meta.dirname, '../../../collector-config/pricing.yaml'));
    assert.ok(findModel(shipped, 'openai', 'gpt-4o'));
    assert.throws(
      () => parsePricing('providers: {a: {m: {input_per_million: -1, output_per_million: 1}}}'),
      /input_per_million/,
    );
  });
});

describe('logRows', () => {
  test('maps a record; observed time fallback', () => {
    const rows = logRows({
      resourceLogs: [
        {
          resource: { attributes: res },
          schemaUrl: 'rs',
          scopeLogs: [
            {
              scope: { name: 'n', version: 'v', attributes: [kv('s', stringValue('1'))] },
              schemaUrl: 'ss',
              logRecords: [
                {
                  observedTimeUnixNano: '1700000000000000007',
                  severityNumber: 17,
                  severityText: 'ERROR',
                  body: stringValue('hello'),
                  attributes: [kv('a', intValue(1))],
                  flags: 1,
                  traceId: hexToBytes('01'.repeat(16)),
                  spanId: hexToBytes('02'.repeat(8)),
                },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(rows[0], {
      Timestamp: '2023-11-14 22:13:20.000000007',
      TraceId: '01'.repeat(16),
      SpanId: '02'.repeat(8),
      TraceFlags: 1,
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      ServiceName: 'svc',
      Body: 'hello',
      ResourceSchemaUrl: 'rs',
      ResourceAttributes: { 'service.name': 'svc', 'tenant.id': 't1', 'deployment.environment': 'prod' },
      ScopeSchemaUrl: 'ss',
      ScopeName: 'n',
      ScopeVersion: 'v',
      ScopeAttributes: { s: '1' },
      LogAttributes: { a: '1' },
      TenantId: 't1',
      Environment: 'prod',
    });
  });
});

describe('metricRows', () => {
  test('all five metric types', () => {
    const t = {
      startTimeUnixNano: '1700000000000000000',
      timeUnixNano: '1700000060000000001',
      attributes: [kv('k', stringValue('v'))],
    };
    const out = metricRows({
      resourceMetrics: [
        {
          resource: { attributes: res },
          scopeMetrics: [
            {
              scope: { name: 'm' },
              metrics: [
                {
                  name: 'g',
                  gauge: {
                    dataPoints: [
                      {
                        ...t,
                        asDouble: 1.5,
                        exemplars: [
                          {
                            timeUnixNano: '1700000000000000001',
                            asInt: 4,
                            spanId: hexToBytes('03'.repeat(8)),
                            traceId: hexToBytes('04'.repeat(16)),
                          },
                        ],
                      },
                    ],
                  },
                },
                {
                  name: 's',
                  sum: {
                    aggregationTemporality: 2,
                    isMonotonic: true,
                    dataPoints: [{ ...t, asInt: '9007199254740993' }],
                  },
                },
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 1,
                    dataPoints: [{ ...t, count: 3, sum: 6, bucketCounts: [1, 2], explicitBounds: [5], min: 1, max: 4 }],
                  },
                },
                {
                  name: 'e',
                  exponentialHistogram: {
                    dataPoints: [
                      {
                        ...t,
                        count: 3,
                        sum: 6,
                        scale: 2,
                        zeroCount: 1,
                        positive: { offset: -1, bucketCounts: [1] },
                        negative: { offset: 2, bucketCounts: [1] },
                      },
                    ],
                  },
                },
                {
                  name: 'q',
                  summary: { dataPoints: [{ ...t, count: 2, sum: 3, quantileValues: [{ quantile: 0.5, value: 1 }] }] },
                },
              ],
            },
          ],
        },
      ],
    });
    const g = out.otel_metrics_gauge[0]!;
    assert.equal(g.Value, 1.5);
    assert.equal(g.TimeUnix, '2023-11-14 22:14:20.000000001');
    assert.deepEqual(g['Exemplars.Value'], [4]);
    assert.deepEqual(g['Exemplars.TraceId'], ['04'.repeat(16)]);
    assert.equal(g.TenantId, 't1');
    const s = out.otel_metrics_sum[0]!;
    assert.equal(s.IsMonotonic, true);
    assert.equal(s.AggregationTemporality, 2);
    const h = out.otel_metrics_histogram[0]!;
    assert.deepEqual([h.Count, h.Sum, h.BucketCounts, h.ExplicitBounds, h.Min, h.Max], ['3', 6, ['1', '2'], [5], 1, 4]);
    const e = out.otel_metrics_exp_histogram[0]!;
    assert.deepEqual(
      [e.Scale, e.ZeroCount, e.PositiveOffset, e.PositiveBucketCounts, e.NegativeOffset],
      [2, '1', -1, ['1'], 2],
    );
    const q = out.otel_metrics_summary[0]!;
    assert.deepEqual([q['ValueAtQuantiles.Quantile'], q['ValueAtQuantiles.Value']], [[0.5], [1]]);
  });
});
