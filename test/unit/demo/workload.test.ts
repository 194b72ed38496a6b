import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../../src/cli/demo.js';
import { AGENTS, type LlmStep, planAgentRun, planHttpRequest, seededRandom } from '../../../src/demo/workload.js';
import { findModel, loadPricing } from '../../../src/loader/pricing.js';

test('agent runs: think with an LLM, act with tools (a failed tool is retried once), then answer', () => {
  const rng = seededRandom(42);
  let failedTools = 0;
  let timeouts = 0;
  let failedRuns = 0;
  for (let i = 0; i < 2000; i++) {
    const plan = planAgentRun(rng, AGENTS[i % AGENTS.length] as (typeof AGENTS)[number]);
    assert.equal(plan.steps[0]?.kind, 'llm', 'a run starts with the model');
    const models = new Set(plan.steps.filter((s): s is LlmStep => s.kind === 'llm').map((s) => s.model.requestModel));
    assert.equal(models.size, 1, 'one model per run');
    for (const [k, s] of plan.steps.entries()) {
      assert.ok(s.durationMs >= 1);
      if (s.kind === 'tool' && s.outcome !== 'ok') {
        const next = plan.steps[k + 1];
        const retried = next?.kind === 'tool' && next.tool.name === s.tool.name;
        const isRetry = plan.steps[k - 1]?.kind === 'tool';
        assert.ok(retried || isRetry, 'a failed tool call is retried once, or it was the retry');
        if (s.outcome === 'timeout') {
          timeouts++;
          assert.equal(s.durationMs, s.tool.timeoutMs);
        } else failedTools++;
      }
    }
    const last = plan.steps.at(-1);
    if (plan.failed) failedRuns++;
    else assert.ok(last?.kind === 'llm' && last.finishReason === 'stop', 'a successful run ends with an answer');
    assert.equal(plan.durationMs, plan.steps.reduce((n, s) => n + s.durationMs, 0) + 5 * plan.steps.length);
  }
  assert.ok(failedTools > 20 && timeouts > 20 && failedRuns > 20, `${failedTools} ${timeouts} ${failedRuns}`);
  assert.ok(failedRuns < 400, 'most runs succeed');
});

test('every demo model has a price in collector-config/pricing.yaml, so the demo shows a cost', () => {
  const pricing = loadPricing('collector-config/pricing.yaml');
  for (const a of AGENTS)
    for (const m of a.models) {
      assert.ok(findModel(pricing, m.provider, m.responseModel), `${m.provider}/${m.responseModel}`);
      assert.ok(findModel(pricing, m.provider, m.requestModel), `${m.provider}/${m.requestModel}`);
    }
});

test('HTTP requests: mostly 2xx, a few 4xx and 5xx, the database inside the request', () => {
  const rng = seededRandom(7);
  const statuses = Array.from({ length: 5000 }, () => planHttpRequest(rng));
  const errors = statuses.filter((r) => r.status >= 500).length;
  assert.ok(errors > 40 && errors < 200, String(errors));
  for (const r of statuses) assert.ok(r.dbMs < r.durationMs);
});

test('--duration accepts 30s, 2m, 500ms and plain seconds; refuses nonsense', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('45'), 45_000);
  assert.throws(() => parseDuration('soon'), /expected e\.g\. 30s/);
  assert.throws(() => parseDuration('0s'), /more than 0/);
  assert.throws(() => parseDuration('2h'), /at most 1h/);
});
