// The AI dialect layer: each preset as its library emits it, precedence, provider names, plain spans,
// bad usage, aggregates, user extensions and config errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DEFAULT_DIALECTS_FILE, normaliseProvider, parseDialects } from '../../../src/loader/genai/dialects.js';
import { GENAI_SPAN_COLUMNS, PLAIN_SPAN, resolveList, resolveSpan } from '../../../src/loader/genai/resolve.js';
import { defaultDialects, extractGenAi } from '../../../src/loader/genai.js';
import { parsePricing } from '../../../src/loader/pricing.js';
import { doubleValue, intValue, stringValue } from '../../../src/otlp/anyvalue.js';
import type { AnyValue, KeyValue } from '../../../src/otlp/model.js';

const attrs = (o: Record<string, string | number>): KeyValue[] =>
  Object.entries(o).map(([key, v]) => ({
    key,
    value: (typeof v === 'string' ? stringValue(v) : Number.isInteger(v) ? intValue(v) : doubleValue(v)) as AnyValue,
  }));
const pricing = parsePricing(`
providers:
  openai:
    gpt-4o: { input_per_million: 2.5, output_per_million: 10, cache_read_per_million: 1.25 }
    gpt-4.1: { input_per_million: 2, output_per_million: 8 }
  anthropic:
    claude-sonnet-4: { input_per_million: 3, output_per_million: 15, cache_read_per_million: 0.3, cache_creation_per_million: 3.75 }
  azure.ai.openai:
    gpt-4o: { input_per_million: 5, output_per_million: 20 }
`);
const d = defaultDialects();
const run = (span: Record<string, string | number>, resource: Record<string, string | number> = {}, kind = 3) =>
  resolveSpan(d, attrs(span), resolveList(d, attrs(resource)), { kind, timeMs: Date.now() }, pricing);

describe('dialect presets, as each library names its attributes', () => {
  test('OpenTelemetry GenAI (current)', () => {
    const f = run({
      'gen_ai.provider.name': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1000,
      'gen_ai.usage.output_tokens': 200,
      'gen_ai.usage.cache_read.input_tokens': 400,
      'gen_ai.usage.reasoning.output_tokens': 50,
      'gen_ai.conversation.id': 'c1',
    });
    assert.equal(f.GenAiDialect, 'otel_genai');
    assert.equal(f.GenAiResponseModel, 'gpt-4o-2024-08-06');
    assert.deepEqual(
      [f.GenAiInputTokens, f.GenAiOutputTokens, f.GenAiCacheReadTokens, f.GenAiReasoningTokens],
      [1000, 200, 400, 50],
    );
    // 600 uncached × 2.5 + 400 cached × 1.25 + 200 output (reasoning inside) × 10
    assert.ok(Math.abs(f.GenAiCostUsd - (600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6) < 1e-15);
    assert.equal(f.GenAiConversationId, 'c1');
  });

  test('OpenTelemetry GenAI (deprecated names, as OpenLLMetry sends them)', () => {
    const f = run({
      'gen_ai.system': 'OpenAI',
      'llm.request.type': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.prompt_tokens': 10,
      'gen_ai.usage.completion_tokens': 5,
      'llm.usage.total_tokens': 15,
    });
    assert.equal(f.GenAiProvider, 'openai');
    assert.equal(f.GenAiOperation, 'chat');
    assert.equal(f.GenAiDialect, 'otel_genai,otel_genai_deprecated,openllmetry');
    assert.deepEqual([f.GenAiInputTokens, f.GenAiOutputTokens], [10, 5]);
    assert.equal(f.GenAiCostSource, 'pricing');
  });

  test('OpenLLMetry before semconv (llm.vendor, llm.usage.*), tool spans by traceloop.span.kind', () => {
    const f = run({
      'llm.vendor': 'Anthropic',
      'llm.request.model': 'claude-sonnet-4-20250514',
      'llm.usage.prompt_tokens': 100,
      'llm.usage.completion_tokens': 20,
    });
    assert.equal(f.GenAiProvider, 'anthropic');
    assert.equal(f.GenAiOperation, '', 'no operation name: still an LLM span');
    assert.ok(f.GenAiCostUsd > 0);
    const tool = run({
      'traceloop.span.kind': 'tool',
      'traceloop.entity.name': 'search',
      'traceloop.workflow.name': 'wf',
    });
    assert.equal(tool.GenAiOperation, 'execute_tool');
    assert.equal(tool.GenAiToolName, 'search');
    assert.equal(tool.GenAiAgentName, 'wf');
  });

  test('OpenInference: llm.provider (hosting) wins over llm.system; span kinds map to operations', () => {
    const f = run({
      'openinference.span.kind': 'LLM',
      'llm.provider': 'azure',
      'llm.system': 'openai',
      'llm.model_name': 'gpt-4o',
      'llm.token_count.prompt': 100,
      'llm.token_count.completion': 10,
      'llm.token_count.prompt_details.cache_read': 40,
      'session.id': 's1',
    });
    assert.equal(f.GenAiProvider, 'azure.ai.openai', 'Azure OpenAI is not OpenAI');
    assert.equal(f.GenAiOperation, 'chat');
    assert.equal(f.GenAiDialect, 'openinference');
    assert.equal(f.GenAiCacheReadTokens, 40);
    assert.ok(Math.abs(f.GenAiCostUsd - (100 * 5 + 10 * 20) / 1e6) < 1e-15, 'azure price list, no cache price');
    const tool = run({ 'openinference.span.kind': 'TOOL', 'tool.name': 'calc' });
    assert.deepEqual([tool.GenAiOperation, tool.GenAiToolName], ['execute_tool', 'calc']);
    const agent = run({ 'openinference.span.kind': 'AGENT', 'agent.name': 'researcher' });
    assert.deepEqual([agent.GenAiOperation, agent.GenAiAgentName], ['invoke_agent', 'researcher']);
  });

  test('Vercel AI SDK: doGenerate is the model call; the outer generateText span is an aggregate', () => {
    const step = run({
      'ai.operationId': 'ai.generateText.doGenerate',
      'ai.model.provider': 'anthropic.messages',
      'ai.model.id': 'claude-sonnet-4',
      'ai.usage.inputTokens': 1000,
      'ai.usage.outputTokens': 100,
      'ai.usage.inputTokenDetails.cacheReadTokens': 600,
      'ai.usage.inputTokenDetails.cacheWriteTokens': 300,
      'ai.telemetry.functionId': 'support-bot',
    });
    assert.equal(step.GenAiProvider, 'anthropic');
    assert.equal(step.GenAiOperation, 'chat');
    assert.equal(step.GenAiAgentName, 'support-bot');
    assert.equal(step.GenAiBillable, 1);
    // 100 uncached × 3 + 600 × 0.3 + 300 × 3.75 + 100 × 15
    assert.ok(Math.abs(step.GenAiCostUsd - (100 * 3 + 600 * 0.3 + 300 * 3.75 + 100 * 15) / 1e6) < 1e-15);
    const outer = run({
      'ai.operationId': 'ai.generateText',
      'ai.model.provider': 'anthropic.messages',
      'ai.model.id': 'claude-sonnet-4',
      'ai.usage.promptTokens': 1000,
      'ai.usage.completionTokens': 100,
    });
    assert.equal(outer.GenAiOperation, 'invoke_workflow');
    assert.equal(outer.GenAiBillable, 0, 'its tokens are its steps’ tokens');
    assert.equal(outer.GenAiInputTokens, 1000, 'kept on the span');
    assert.equal(run({ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'weather' }).GenAiToolName, 'weather');
  });

  test('flat names on span and resource: the issue’s Python example', () => {
    const f = run(
      { tokens_prompt: 512, tokens_completion: 128, cost_usd: 0.0032, status: 'ok' },
      { 'service.name': 'bot', model: 'gpt-4.1', provider: 'openai', agent: 'order_bot', route: '/orders' },
      1,
    );
    assert.deepEqual(
      [f.GenAiProvider, f.GenAiRequestModel, f.GenAiAgentName, f.GenAiInputTokens, f.GenAiOutputTokens],
      ['openai', 'gpt-4.1', 'order_bot', 512, 128],
    );
    assert.equal(f.GenAiCostUsd, 0.0032);
    assert.equal(f.GenAiCostSource, 'span');
    assert.equal(f.GenAiErrorType, '');
    assert.equal(f.GenAiDialect, 'flat');
    const failed = run({ tokens_prompt: 1, status: 'error' }, { model: 'gpt-4.1', provider: 'openai' });
    assert.equal(failed.GenAiErrorType, 'error');
  });

  test('flat Anthropic usage excludes cache tokens: Sieve adds them, never bills them twice', () => {
    const f = run({
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      input_tokens: 100,
      output_tokens: 10,
      cache_read_input_tokens: 1000,
    });
    assert.equal(f.GenAiInputTokens, 1100);
    assert.ok(Math.abs(f.GenAiCostUsd - (100 * 3 + 1000 * 0.3 + 10 * 15) / 1e6) < 1e-15);
  });
});

describe('precedence and plain spans', () => {
  test('span attributes win over resource attributes; earlier dialects win over later ones', () => {
    const f = run(
      { 'gen_ai.request.model': 'gpt-4o', model: 'other', 'gen_ai.usage.input_tokens': 1, input_tokens: 99 },
      { 'gen_ai.request.model': 'resource-model', 'gen_ai.provider.name': 'openai' },
    );
    assert.equal(f.GenAiRequestModel, 'gpt-4o');
    assert.equal(f.GenAiInputTokens, 1);
    assert.equal(f.GenAiProvider, 'openai', 'filled from the resource');
    assert.equal(f.GenAiDialect, 'otel_genai');
  });

  test('a span without AI fields stays plain, even when its resource names a model', () => {
    assert.equal(run({ 'http.route': '/cart' }, { model: 'gpt-4.1', provider: 'openai' }), PLAIN_SPAN);
    // generic words alone do not make an LLM call
    assert.equal(
      run({ status: 'ok', model: 'User', provider: 'stripe', route: '/x', 'error.type': '500' }),
      PLAIN_SPAN,
    );
    assert.equal(extractGenAi([], pricing).GenAiCostSource, '');
  });

  test('provider names normalise across dialects; hosted offerings stay apart', () => {
    const cases: [string, string][] = [
      ['openai.chat', 'openai'],
      ['OpenAI', 'openai'],
      ['openai.responses', 'openai'],
      ['anthropic.messages', 'anthropic'],
      ['Anthropic', 'anthropic'],
      ['azure.chat', 'azure.ai.openai'],
      ['az.ai.openai', 'azure.ai.openai'],
      ['amazon-bedrock', 'aws.bedrock'],
      ['bedrock.anthropic.messages', 'aws.bedrock'],
      ['aws.bedrock', 'aws.bedrock'],
      ['google.vertex.chat', 'gcp.vertex_ai'],
      ['vertexai', 'gcp.vertex_ai'],
      ['google.generative-ai', 'gcp.gemini'],
      ['mycorp-llm', 'mycorp-llm'],
    ];
    for (const [v, want] of cases) assert.equal(normaliseProvider(d, v), want, v);
  });
});

describe('bad usage values', () => {
  for (const [name, v] of [
    ['negative', -5],
    ['not a number', 'lots'],
    ['absurd', 2e9],
    ['fractional', 1.5],
  ] as const) {
    test(`${name} token count: not summed into cost, counted, span kept`, () => {
      const seen: string[] = [];
      const f = resolveSpan(
        d,
        attrs({
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.usage.input_tokens': v,
          'gen_ai.usage.output_tokens': 100,
        }),
        resolveList(d, []),
        { kind: 3, timeMs: Date.now() },
        pricing,
        { onInvalidUsage: (field, dialect) => seen.push(`${field}/${dialect}`) },
      );
      assert.deepEqual(seen, ['input_tokens/otel_genai']);
      assert.equal(f.GenAiInputTokens, 0);
      assert.equal(f.GenAiCostSource, 'invalid_usage');
      assert.ok(Math.abs(f.GenAiCostUsd - (100 * 10) / 1e6) < 1e-15, 'only the valid output tokens are priced');
    });
  }
  test('numeric strings are read as numbers', () => {
    assert.equal(run({ 'gen_ai.usage.input_tokens': '42', 'gen_ai.request.model': 'gpt-4o' }).GenAiInputTokens, 42);
  });
});

describe('aggregates', () => {
  test('invoke_agent: INTERNAL is an aggregate of traced model calls, CLIENT (remote agent) is billed', () => {
    const span = { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.usage.input_tokens': 10 };
    assert.equal(run(span, {}, 1).GenAiBillable, 0);
    assert.equal(run(span, {}, 3).GenAiBillable, 1);
  });
});

describe('user dialect file', () => {
  const presets = readFileSync(DEFAULT_DIALECTS_FILE, 'utf8');
  test('a new dialect comes first; a preset name appends aliases; presets can be disabled', () => {
    const u = parseDialects(
      presets,
      `
dialects:
  - name: acme
    fields:
      input_tokens: [acme.in]
      request_model: [acme.model]
  - name: openinference
    fields:
      agent_name: [acme.agent]
disable: [flat]
providers:
  openai: [acme-openai]
`,
    );
    const f = resolveSpan(
      u,
      attrs({
        'acme.in': 7,
        'gen_ai.usage.input_tokens': 9,
        'acme.model': 'gpt-4o',
        'acme.agent': 'a1',
        'gen_ai.provider.name': 'acme-openai',
      }),
      resolveList(u, []),
      { kind: 3, timeMs: Date.now() },
      pricing,
    );
    assert.equal(f.GenAiInputTokens, 7);
    assert.equal(f.GenAiAgentName, 'a1');
    assert.equal(f.GenAiProvider, 'openai');
    assert.equal(f.GenAiDialect, 'acme,otel_genai,openinference');
    assert.equal(
      resolveSpan(u, attrs({ tokens_prompt: 5 }), resolveList(u, []), { kind: 3, timeMs: 0 }, pricing),
      PLAIN_SPAN,
      'flat disabled',
    );
  });

  test('errors name file, line, column and key', () => {
    assert.throws(
      () => parseDialects(presets, 'dialects:\n  - name: x\n    fields:\n      input_tokenz: [a]\n'),
      /user-ai-dialects\.yaml:4:7: dialects\[0\]\.fields\.input_tokenz/,
    );
    assert.throws(() => parseDialects(presets, 'dialects: [\n'), /user-ai-dialects\.yaml:\d+:\d+: YAML/);
    assert.throws(() => parseDialects(presets, 'disable: [nope]\n'), /unknown preset "nope"/);
  });

  test('the declared column list matches the resolved values', () => {
    assert.deepEqual(
      GENAI_SPAN_COLUMNS.map(([name]) => name),
      Object.keys(PLAIN_SPAN),
    );
  });
});
