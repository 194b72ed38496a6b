// Pricing: model lookup (exact, match, dated versions) within a provider, token types, tiers,
// effective dates, metric per-token prices, and config errors with positions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeCost, findModel, parsePricing, pricePerToken, pricesAt } from '../../../src/loader/pricing.js';

const table = parsePricing(`
providers:
  openai:
    gpt-4o: { input_per_million: 2.5, output_per_million: 10, cache_read_per_million: 1.25 }
    gpt-4o-mini: { input_per_million: 0.15, output_per_million: 0.6 }
    o3: { input_per_million: 2, output_per_million: 8, reasoning_per_million: 8 }
  anthropic:
    claude-sonnet-4:
      match: ['claude-4-sonnet.*']
      input_per_million: 3
      output_per_million: 15
      cache_read_per_million: 0.3
      cache_creation_per_million: 3.75
      tiers:
        - { above_input_tokens: 200000, input_per_million: 6, output_per_million: 22.5 }
    claude-opus-4:
      - { effective_from: 2025-01-01, input_per_million: 15, output_per_million: 75 }
      - { effective_from: 2026-01-01, input_per_million: 5, output_per_million: 25 }
  aws.bedrock:
    claude-sonnet-4: { input_per_million: 3.3, output_per_million: 16.5 }
`);
const T = Date.parse('2026-06-01T00:00:00Z');
const price = (provider: string, model: string, t = T, input = 0) => {
  const e = findModel(table, provider, model);
  return e && pricesAt(e, t, input);
};

describe('pricing', () => {
  test('exact name, then match regexes, then dated versions; scoped by provider', () => {
    assert.equal(price('openai', 'gpt-4o')?.input, 2.5);
    assert.equal(price('openai', 'gpt-4o-2024-08-06')?.input, 2.5);
    assert.equal(price('openai', 'gpt-4o-mini-2024-07-18')?.input, 0.15, 'mini is not a dated gpt-4o');
    assert.equal(price('openai', 'openai/gpt-4o')?.input, 2.5, 'router prefix');
    assert.equal(price('anthropic', 'claude-sonnet-4-20250514')?.input, 3);
    assert.equal(price('anthropic', 'claude-4-sonnet-preview')?.input, 3, 'match regex');
    assert.equal(price('aws.bedrock', 'claude-sonnet-4')?.input, 3.3, 'same model, other provider, other price');
    assert.equal(price('anthropic', 'gpt-4o'), undefined, 'never across providers');
    assert.equal(price('', 'gpt-4o')?.input, 2.5, 'no provider: first provider that has it');
    assert.equal(price('openai', 'gpt-4o-realtime'), undefined);
  });

  test('token types: cache read/creation inside input, reasoning inside output, each billed once', () => {
    const p = price('anthropic', 'claude-sonnet-4')!;
    const cost = computeCost(p, { input: 1000, output: 100, cacheRead: 600, cacheCreation: 300, reasoning: 40 });
    assert.ok(Math.abs(cost - (100 * 3 + 600 * 0.3 + 300 * 3.75 + 100 * 15) / 1e6) < 1e-15);
    const o3 = price('openai', 'o3')!;
    assert.ok(
      Math.abs(
        computeCost(o3, { input: 10, output: 100, cacheRead: 0, cacheCreation: 0, reasoning: 80 }) -
          (10 * 2 + 100 * 8) / 1e6,
      ) < 1e-15,
      'OpenAI reasoning tokens are part of the output tokens',
    );
  });

  test('tiers above a prompt size; effective dates', () => {
    assert.equal(price('anthropic', 'claude-sonnet-4', T, 200_000)?.input, 3);
    assert.equal(price('anthropic', 'claude-sonnet-4', T, 200_001)?.input, 6);
    assert.equal(price('anthropic', 'claude-sonnet-4', T, 200_001)?.cacheRead, 0.3, 'unset tier prices keep the base');
    assert.equal(price('anthropic', 'claude-opus-4', Date.parse('2025-06-01'))?.input, 15);
    assert.equal(price('anthropic', 'claude-opus-4', Date.parse('2026-01-01T00:00:00Z'))?.input, 5);
    assert.equal(price('anthropic', 'claude-opus-4', Date.parse('2024-06-01')), undefined, 'before any price');
  });

  test('metric points: price per token of each token type', () => {
    const p = price('openai', 'gpt-4o')!;
    assert.equal(pricePerToken(p, 'input'), 2.5e-6);
    assert.equal(pricePerToken(p, 'input:cache_read'), 1.25e-6);
    assert.equal(pricePerToken(p, 'cache_read'), (1.25 - 2.5) / 1e6, 'a separate series corrects its input price');
    assert.equal(pricePerToken(p, 'output'), 10e-6);
  });

  test('errors name file, line, column and key', () => {
    assert.throws(
      () => parsePricing('providers:\n  a:\n    m: {input_per_million: -1, output_per_million: 1}\n', 'p.yaml'),
      /p\.yaml:3:\d+: providers\.a\.m/,
    );
    assert.throws(
      () =>
        parsePricing(
          'providers:\n  a:\n    m: {input_per_million: 1, output_per_million: 1, match: ["("]}\n',
          'p.yaml',
        ),
      /p\.yaml:3:\d+: providers\.a\.m\.match\[0\]: invalid regular expression/,
    );
    assert.throws(
      () =>
        parsePricing(
          'providers:\n  a:\n    m: {input_per_million: 1, output_per_million: 1, effective_from: soon}\n',
          'p.yaml',
        ),
      /not a date/,
    );
  });
});
