/**
 * Pricing against ClickHouse: spans go through Kafka and the real loader with a pricing file (dated
 * model names, cache tokens, a prompt-size tier, effective dates, a cost on the span, an unknown
 * model); then the file changes and `sieve reprice` (the CLI) recomputes the window: costs follow the
 * new file, the span's own cost stays, and llm_1m_v equals the raw table again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../src/clickhouse/client.js';
import { migrate } from '../../src/clickhouse/migrate.js';
import { type Loader, startLoader } from '../../src/loader/loader.js';
import { parsePricing } from '../../src/loader/pricing.js';
import { doubleValue, intValue, stringValue } from '../../src/otlp/anyvalue.js';
import { encodeProtobuf } from '../../src/otlp/codec.js';
import type { KeyValue } from '../../src/otlp/model.js';
import { until } from '../support/until.js';

const ROOT = join(import.meta.dirname, '..', '..');
const id = randomBytes(4).toString('hex');
const db = `sieve_price_${id}`;
const topic = `it_price_${id}`;
const client = createClickHouseClient({ database: 'default' });
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
const registry = new Registry();
const dir = mkdtempSync(join(tmpdir(), 'sieve-price-'));
let loader: Loader | undefined;

const HOUR = 3_600_000;
const now = Date.now();
const yesterday = new Date(now - 86_400_000).toISOString().slice(0, 10);
const recent = now - 2 * HOUR;
const old = now - 3 * 24 * HOUR;

const PRICING_V1 = `
providers:
  openai:
    gpt-4o: { input_per_million: 2.5, output_per_million: 10 }
    gpt-4.1:
      - { effective_from: 2020-01-01, input_per_million: 2, output_per_million: 8 }
      - { effective_from: ${yesterday}, input_per_million: 1, output_per_million: 4 }
  anthropic:
    claude-sonnet-4: { input_per_million: 3, output_per_million: 15, cache_read_per_million: 0.3, cache_creation_per_million: 3.75 }
  gcp.gemini:
    gemini-2.5-pro:
      input_per_million: 1.25
      output_per_million: 10
      tiers: [{ above_input_tokens: 200000, input_per_million: 2.5, output_per_million: 15 }]
`;
// gpt-4o doubles; gpt-9 gets a price
const PRICING_V2 = PRICING_V1.replace(
  'gpt-4o: { input_per_million: 2.5, output_per_million: 10 }',
  'gpt-4o: { input_per_million: 5, output_per_million: 20 }\n    gpt-9: { input_per_million: 1, output_per_million: 1 }',
);

interface Case {
  name: string;
  timeMs: number;
  attrs: Record<string, string | number>;
  cost: number;
  source: string;
  /** after the reprice with PRICING_V2 */
  repriced: { cost: number; source: string };
}
const CASES: Case[] = [
  {
    name: 'dated model name',
    timeMs: recent,
    attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-2024-08-06', in: 1000, out: 100 },
    cost: (1000 * 2.5 + 100 * 10) / 1e6,
    source: 'pricing',
    repriced: { cost: (1000 * 5 + 100 * 20) / 1e6, source: 'pricing' },
  },
  {
    name: 'cache tokens (Anthropic through semconv: included in input)',
    timeMs: recent,
    attrs: {
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.response.model': 'claude-sonnet-4-20250514',
      in: 10_000,
      out: 500,
      'gen_ai.usage.cache_read.input_tokens': 6000,
      'gen_ai.usage.cache_creation.input_tokens': 2000,
    },
    cost: (2000 * 3 + 6000 * 0.3 + 2000 * 3.75 + 500 * 15) / 1e6,
    source: 'pricing',
    repriced: { cost: (2000 * 3 + 6000 * 0.3 + 2000 * 3.75 + 500 * 15) / 1e6, source: 'pricing' },
  },
  {
    name: 'tier above 200k prompt tokens',
    timeMs: recent,
    attrs: { 'gen_ai.provider.name': 'gcp.gemini', 'gen_ai.request.model': 'gemini-2.5-pro', in: 250_000, out: 1000 },
    cost: (250_000 * 2.5 + 1000 * 15) / 1e6,
    source: 'pricing',
    repriced: { cost: (250_000 * 2.5 + 1000 * 15) / 1e6, source: 'pricing' },
  },
  {
    name: 'price valid at the span time (before the change)',
    timeMs: old,
    attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1', in: 1000, out: 1000 },
    cost: (1000 * 2 + 1000 * 8) / 1e6,
    source: 'pricing',
    repriced: { cost: (1000 * 2 + 1000 * 8) / 1e6, source: 'pricing' },
  },
  {
    name: 'price valid at the span time (after the change)',
    timeMs: recent,
    attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4.1', in: 1000, out: 1000 },
    cost: (1000 * 1 + 1000 * 4) / 1e6,
    source: 'pricing',
    repriced: { cost: (1000 * 1 + 1000 * 4) / 1e6, source: 'pricing' },
  },
  {
    name: 'cost on the span wins',
    timeMs: recent,
    attrs: {
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      in: 1000,
      out: 1000,
      'gen_ai.usage.cost': 0.5,
    },
    cost: 0.5,
    source: 'span',
    repriced: { cost: 0.5, source: 'span' },
  },
  {
    name: 'unknown model',
    timeMs: recent,
    attrs: { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-9', in: 1000, out: 1000 },
    cost: 0,
    source: 'unknown_model',
    repriced: { cost: 0.002, source: 'pricing' },
  },
];

function kv(key: string, v: string | number): KeyValue {
  const k = key === 'in' ? 'gen_ai.usage.input_tokens' : key === 'out' ? 'gen_ai.usage.output_tokens' : key;
  return { key: k, value: typeof v === 'string' ? stringValue(v) : Number.isInteger(v) ? intValue(v) : doubleValue(v) };
}

async function rows<T>(query: string): Promise<T[]> {
  return (await (await client.query({ query, format: 'JSONEachRow' })).json()) as T[];
}

before(async () => {
  await migrate({ client, database: db });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
  await admin.disconnect();
});
after(async () => {
  await loader?.stop();
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

const rollupVsRaw = async () => {
  const raw = await rows(
    `SELECT count() AS Calls, sum(GenAiInputTokens) AS InputTokens, round(sum(GenAiCostUsd), 9) AS CostUsd,
       countIf(GenAiCostSource = 'unknown_model') AS Unpriced
     FROM ${db}.otel_traces WHERE GenAiDialect != ''`,
  );
  const rolled = await rows(
    `SELECT sum(Calls) AS Calls, sum(InputTokens) AS InputTokens, round(sum(CostUsd), 9) AS CostUsd,
       sum(UnpricedCalls) AS Unpriced FROM ${db}.llm_1m_v`,
  );
  return { raw, rolled };
};

test('pricing cases in ClickHouse, then `sieve reprice` after the pricing file changed', async () => {
  const producer = kafka.producer();
  await producer.connect();
  const spans = CASES.map((c, i) => ({
    traceId: Buffer.from(randomBytes(16)),
    spanId: Buffer.from(randomBytes(8)),
    name: c.name,
    kind: 3,
    startTimeUnixNano: (BigInt(c.timeMs + i) * 1_000_000n).toString(),
    endTimeUnixNano: (BigInt(c.timeMs + i + 800) * 1_000_000n).toString(),
    attributes: [kv('gen_ai.operation.name', 'chat'), ...Object.entries(c.attrs).map(([k, v]) => kv(k, v))],
  }));
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'priced'), kv('tenant.id', 'acme')] },
        scopeSpans: [{ scope: { name: 't' }, spans }],
      },
    ],
  };
  await producer.send({ topic, messages: [{ value: Buffer.from(encodeProtobuf('traces', req)) }] });
  await producer.disconnect();
  loader = await startLoader({
    brokers,
    topics: { [topic]: 'traces' },
    groupId: `g_${id}`,
    client,
    database: db,
    logger: pino({ level: 'silent' }),
    registry,
    pricing: parsePricing(PRICING_V1),
  });
  await until(
    'spans loaded',
    async () => Number((await rows<{ n: string }>(`SELECT count() AS n FROM ${db}.otel_traces`))[0]?.n) >= CASES.length,
    90_000,
  );
  await loader.stop();
  loader = undefined;

  const byName = async () =>
    new Map(
      (
        await rows<{ SpanName: string; GenAiCostUsd: number; GenAiCostSource: string }>(
          `SELECT SpanName, GenAiCostUsd, GenAiCostSource FROM ${db}.otel_traces`,
        )
      ).map((r) => [r.SpanName, r]),
    );
  let got = await byName();
  for (const c of CASES) {
    const r = got.get(c.name)!;
    assert.ok(Math.abs(Number(r.GenAiCostUsd) - c.cost) < 1e-12, `${c.name}: ${r.GenAiCostUsd} ≠ ${c.cost}`);
    assert.equal(r.GenAiCostSource, c.source, c.name);
  }
  assert.match(
    await registry.metrics(),
    /sieve_loader_cost_unknown_model_total\{provider="openai",model="gpt-9"\} 1/,
    'unknown models are counted',
  );
  const before = await rollupVsRaw();
  assert.deepEqual(before.rolled, before.raw);
  assert.equal(Number((before.rolled[0] as { Unpriced: string }).Unpriced), 1, 'and listed in llm_1m');

  // the pricing file changes; reprice the window with the CLI
  const pricingFile = join(dir, 'pricing.yaml');
  writeFileSync(pricingFile, PRICING_V2);
  const from = new Date(now - 4 * 24 * HOUR).toISOString();
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'sieve.mjs'),
        'reprice',
        '--from',
        from,
        '--to',
        'now-3m',
        '--pricing',
        pricingFile,
        '--chunk',
        '1440',
      ],
      { env: { ...process.env, CLICKHOUSE_DATABASE: db }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (text += b));
    child.on('exit', (code) => resolve({ code, text }));
  });
  assert.equal(out.code, 0, out.text);
  assert.match(out.text, /reprice 1\/4 .* priced spans/, 'progress per chunk');
  assert.match(out.text, /reprice done: 6 priced spans read, 2 costs changed in 4 chunks/);

  got = await byName();
  for (const c of CASES) {
    const r = got.get(c.name)!;
    assert.ok(
      Math.abs(Number(r.GenAiCostUsd) - c.repriced.cost) < 1e-12,
      `${c.name}: ${r.GenAiCostUsd} ≠ ${c.repriced.cost}`,
    );
    assert.equal(r.GenAiCostSource, c.repriced.source, c.name);
  }
  const afterReprice = await rollupVsRaw();
  assert.deepEqual(afterReprice.rolled, afterReprice.raw, 'rollups equal the raw table after the reprice');
  assert.equal(Number((afterReprice.rolled[0] as { Unpriced: string }).Unpriced), 0);
});

test('reprice refuses a window that is still being written, and bad times', async () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; text: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'sieve.mjs'), 'reprice', ...args], {
        env: { ...process.env, CLICKHOUSE_DATABASE: db },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      for (const s of [child.stdout, child.stderr]) s?.on('data', (b: Buffer) => (text += b));
      child.on('exit', (code) => resolve({ code, text }));
    });
  const recentWindow = await run(['--from', 'now-1h', '--to', 'now']);
  assert.equal(recentWindow.code, 1);
  assert.match(recentWindow.text, /at least 2 minutes in the past/);
  const bad = await run(['--from', 'yesterday-ish', '--to', 'now-1h']);
  assert.equal(bad.code, 1);
  assert.match(bad.text, /not a time: "yesterday-ish"/);
});
