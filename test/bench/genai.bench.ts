/**
 * GenAI extraction cost on the loader's hot path: CPU µs per 1,000 spans of resolveSpan (dialect
 * resolution in one pass over the attributes + pricing), for plain spans (20 attributes, no AI field),
 * LLM spans in each dialect, and a mixed batch (1 in 3 an LLM call, as the loader bench); resource
 * attributes are resolved once per resource, as traceRows does. Also the whole traceRows() with and
 * without GenAI resolution, for scale.
 *
 *   node --import tsx test/bench/genai.bench.ts [seconds-per-case]
 */
import { defaultDialects, resolveList, resolveSpan } from '../../src/loader/genai.js';
import { loadPricing } from '../../src/loader/pricing.js';
import { traceRows } from '../../src/loader/traces-rows.js';
import { doubleValue, intValue, stringValue } from '../../src/otlp/anyvalue.js';
import type { KeyValue } from '../../src/otlp/model.js';

const seconds = Number(process.argv[2] ?? 2);
const d = defaultDialects();
const pricing = loadPricing(new URL('../../collector-config/pricing.yaml', import.meta.url).pathname);
const kv = (key: string, v: string | number): KeyValue => ({
  key,
  value: typeof v === 'string' ? stringValue(v) : Number.isInteger(v) ? intValue(v) : doubleValue(v),
});
const filler = (n: number): KeyValue[] =>
  Array.from({ length: n }, (_, i) => kv(`app.attr_${i}`, i % 2 ? `value-${i}` : i));

const SPANS: Record<string, KeyValue[]> = {
  plain: [...filler(18), kv('http.route', '/cart'), kv('http.response.status_code', 200)],
  otel_genai: [
    ...filler(12),
    kv('gen_ai.operation.name', 'chat'),
    kv('gen_ai.provider.name', 'openai'),
    kv('gen_ai.request.model', 'gpt-4o'),
    kv('gen_ai.response.model', 'gpt-4o-2024-08-06'),
    kv('gen_ai.usage.input_tokens', 1000),
    kv('gen_ai.usage.output_tokens', 200),
    kv('gen_ai.usage.cache_read.input_tokens', 400),
    kv('gen_ai.conversation.id', 'c-1'),
  ],
  openinference: [
    ...filler(13),
    kv('openinference.span.kind', 'LLM'),
    kv('llm.provider', 'openai'),
    kv('llm.model_name', 'gpt-4.1'),
    kv('llm.token_count.prompt', 3000),
    kv('llm.token_count.completion', 300),
    kv('llm.token_count.total', 3300),
    kv('session.id', 's-1'),
  ],
  vercel_ai: [
    ...filler(10),
    kv('ai.operationId', 'ai.generateText.doGenerate'),
    kv('ai.model.provider', 'anthropic.messages'),
    kv('ai.model.id', 'claude-sonnet-4-20250514'),
    kv('ai.usage.inputTokens', 5000),
    kv('ai.usage.outputTokens', 400),
    kv('ai.usage.inputTokenDetails.cacheReadTokens', 2000),
    kv('gen_ai.system', 'anthropic.messages'),
    kv('gen_ai.request.model', 'claude-sonnet-4-20250514'),
    kv('ai.telemetry.functionId', 'bot'),
    kv('operation.name', 'ai.generateText.doGenerate bot'),
  ],
  flat: [
    ...filler(16),
    kv('tokens_prompt', 512),
    kv('tokens_completion', 128),
    kv('cost_usd', 0.0032),
    kv('status', 'ok'),
  ],
};
const resource = resolveList(d, [
  kv('service.name', 'agent'),
  kv('model', 'gpt-4.1'),
  kv('provider', 'openai'),
  kv('agent', 'order_bot'),
]);

function cpuUsPer1000(fn: () => void, perCall: number): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  const c0 = process.cpuUsage();
  while (Date.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    calls += 100;
  }
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) / (calls * perCall)) * 1000;
}

const span = { kind: 3, timeMs: Date.now() };
for (const [name, attrs] of Object.entries(SPANS)) {
  const us = cpuUsPer1000(() => resolveSpan(d, attrs, resource, span, pricing), 1);
  console.log(`resolveSpan ${name.padEnd(14)} ${(us / 1000).toFixed(3)} CPU ms per 1,000 spans`);
}
const mixed = Array.from({ length: 300 }, (_, i) =>
  i % 3 === 0 ? SPANS[['otel_genai', 'openinference', 'vercel_ai', 'flat'][i % 4]!]! : SPANS.plain!,
);
let j = 0;
const us = cpuUsPer1000(() => resolveSpan(d, mixed[j++ % mixed.length], resource, span, pricing), 1);
console.log(`resolveSpan mixed (1 in 3 LLM) ${(us / 1000).toFixed(3)} CPU ms per 1,000 spans`);

// the whole row mapping, for scale: 512 spans of one resource
const req = {
  resourceSpans: [
    {
      resource: { attributes: [kv('service.name', 'agent'), kv('tenant.id', 'acme')] },
      scopeSpans: [
        {
          scope: { name: 's' },
          spans: mixed
            .slice(0, 256)
            .concat(mixed.slice(0, 256))
            .map((attributes, i) => ({
              traceId: new Uint8Array(16).fill(1),
              spanId: new Uint8Array(8).fill(i % 250),
              name: 'op',
              kind: 3,
              startTimeUnixNano: '1764370000000000000',
              endTimeUnixNano: '1764370001000000000',
              attributes,
            })),
        },
      ],
    },
  ],
};
const rowsUs = cpuUsPer1000(() => traceRows(req, { pricing, dialects: d }), 512);
console.log(`traceRows (512-span batch, whole row mapping) ${(rowsUs / 1000).toFixed(3)} CPU ms per 1,000 spans`);
