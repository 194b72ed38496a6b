/**
 * What `sieve demo` simulates, as data and pure planning functions (the SDK calls are in emit.ts):
 * two AI agents of two tenants calling LLMs of three providers and tools that fail or time out,
 * and a plain HTTP service of a third tenant. Randomness comes from a seeded generator, so a plan
 * can be checked in tests.
 */

export type Random = () => number;

/** mulberry32: small, fast, seedable; good enough for a demo's dice. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ModelChoice {
  provider: string;
  requestModel: string;
  responseModel: string;
  weight: number;
  /** median latency of a call, ms */
  p50Ms: number;
}

export interface ToolSpec {
  name: string;
  p50Ms: number;
  /** probability of a failed call (error.type = failure) */
  failure: number;
  failureType: string;
  /** probability of a timeout (the call takes timeoutMs) */
  timeout: number;
  timeoutMs: number;
}

export interface AgentSpec {
  service: string;
  tenant: string;
  agent: string;
  models: ModelChoice[];
  tools: ToolSpec[];
  /** share of the agent runs */
  weight: number;
}

/** PII the demo puts into attributes, prompts and log bodies, for the pipeline to scrub. */
export const DEMO_PII = {
  emails: ['jane.doe@example.com', 'sam.lee@example.org'],
  phone: '+1 415 555 0134',
  card: '4111 1111 1111 1111',
  ip: '203.0.113.42',
} as const;

export const AGENTS: AgentSpec[] = [
  {
    service: 'support-agent',
    tenant: 'acme',
    agent: 'support-triage',
    weight: 0.6,
    models: [
      {
        provider: 'openai',
        requestModel: 'gpt-4o-mini',
        responseModel: 'gpt-4o-mini-2024-07-18',
        weight: 0.7,
        p50Ms: 700,
      },
      {
        provider: 'anthropic',
        requestModel: 'claude-3-5-haiku',
        responseModel: 'claude-3-5-haiku-20241022',
        weight: 0.3,
        p50Ms: 900,
      },
    ],
    tools: [
      { name: 'search_kb', p50Ms: 120, failure: 0.02, failureType: 'IndexUnavailable', timeout: 0, timeoutMs: 0 },
      { name: 'lookup_order', p50Ms: 250, failure: 0.03, failureType: 'NotFound', timeout: 0.08, timeoutMs: 5000 },
      { name: 'create_ticket', p50Ms: 400, failure: 0.06, failureType: '500', timeout: 0.01, timeoutMs: 10_000 },
    ],
  },
  {
    service: 'research-agent',
    tenant: 'globex',
    agent: 'deep-research',
    weight: 0.4,
    models: [
      {
        provider: 'anthropic',
        requestModel: 'claude-sonnet-4',
        responseModel: 'claude-sonnet-4-20250514',
        weight: 0.5,
        p50Ms: 2400,
      },
      { provider: 'openai', requestModel: 'gpt-4o', responseModel: 'gpt-4o-2024-11-20', weight: 0.3, p50Ms: 1600 },
      {
        provider: 'gcp.gemini',
        requestModel: 'gemini-2.5-flash',
        responseModel: 'gemini-2.5-flash',
        weight: 0.2,
        p50Ms: 800,
      },
    ],
    tools: [
      { name: 'web_search', p50Ms: 900, failure: 0.03, failureType: '429', timeout: 0.1, timeoutMs: 8000 },
      { name: 'fetch_url', p50Ms: 600, failure: 0.12, failureType: '404', timeout: 0.04, timeoutMs: 8000 },
    ],
  },
];

export const HTTP_SERVICE = { service: 'checkout-api', tenant: 'initech', routes: ['GET /cart', 'POST /checkout'] };

/** A duration around a median: log-normal, so most calls are near p50 and a few are slow. */
export function latency(rng: Random, p50Ms: number): number {
  const u = Math.max(1e-9, rng());
  const v = rng();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(1, Math.round(p50Ms * Math.exp(0.45 * normal)));
}

export function pick<T extends { weight: number }>(rng: Random, choices: readonly T[]): T {
  const total = choices.reduce((s, c) => s + c.weight, 0);
  let x = rng() * total;
  for (const c of choices) {
    x -= c.weight;
    if (x <= 0) return c;
  }
  return choices[choices.length - 1] as T;
}

export interface LlmStep {
  kind: 'llm';
  model: ModelChoice;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  durationMs: number;
  /** set when the provider refused the call */
  error?: string;
  finishReason: 'stop' | 'tool_calls';
}

export interface ToolStep {
  kind: 'tool';
  tool: ToolSpec;
  durationMs: number;
  outcome: 'ok' | 'error' | 'timeout';
}

export type Step = LlmStep | ToolStep;

export interface AgentRunPlan {
  spec: AgentSpec;
  steps: Step[];
  /** the run failed: a tool kept failing, or the model refused */
  failed?: string;
  userEmail: string;
  durationMs: number;
}

/** One agent run: think (LLM) → act (tool) a few times, retrying a failed tool once, then answer. */
export function planAgentRun(rng: Random, spec: AgentSpec): AgentRunPlan {
  const model = pick(rng, spec.models);
  const steps: Step[] = [];
  const llm = (context: number, finishReason: LlmStep['finishReason']): LlmStep => {
    const step: LlmStep = {
      kind: 'llm',
      model,
      inputTokens: context + Math.round(rng() * 400),
      outputTokens: finishReason === 'stop' ? 150 + Math.round(rng() * 500) : 20 + Math.round(rng() * 60),
      cacheReadTokens: rng() < 0.4 ? Math.round(context * 0.5) : 0,
      durationMs: latency(rng, model.p50Ms),
      finishReason,
    };
    if (rng() < 0.02) step.error = 'rate_limit_exceeded';
    return step;
  };
  const tool = (t: ToolSpec): ToolStep => {
    const x = rng();
    const outcome = x < t.timeout ? 'timeout' : x < t.timeout + t.failure ? 'error' : 'ok';
    return { kind: 'tool', tool: t, outcome, durationMs: outcome === 'timeout' ? t.timeoutMs : latency(rng, t.p50Ms) };
  };
  let context = 600 + Math.round(rng() * 800);
  let failed: string | undefined;
  const actions = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < actions && failed === undefined; i++) {
    const think = llm(context, 'tool_calls');
    steps.push(think);
    if (think.error) {
      failed = think.error;
      break;
    }
    const t = spec.tools[Math.floor(rng() * spec.tools.length)] as ToolSpec;
    let call = tool(t);
    steps.push(call);
    if (call.outcome !== 'ok') {
      call = tool(t); // one retry
      steps.push(call);
      if (call.outcome !== 'ok') failed = call.outcome === 'timeout' ? 'tool_timeout' : 'tool_error';
    }
    context += 300 + Math.round(rng() * 900);
  }
  if (failed === undefined) {
    const answer = llm(context, 'stop');
    steps.push(answer);
    if (answer.error) failed = answer.error;
  }
  const overheadMs = 5 * steps.length;
  return {
    spec,
    steps,
    ...(failed !== undefined ? { failed } : {}),
    userEmail: DEMO_PII.emails[Math.floor(rng() * DEMO_PII.emails.length)] as string,
    durationMs: steps.reduce((s, x) => s + x.durationMs, 0) + overheadMs,
  };
}

export interface HttpRequestPlan {
  route: string;
  status: number;
  durationMs: number;
  dbMs: number;
}

export function planHttpRequest(rng: Random): HttpRequestPlan {
  const route = HTTP_SERVICE.routes[rng() < 0.7 ? 0 : 1] as string;
  const dbMs = latency(rng, route.startsWith('POST') ? 35 : 8);
  const x = rng();
  const status = x < 0.02 ? 503 : x < 0.05 ? 400 : route.startsWith('POST') ? 201 : 200;
  return { route, status, dbMs, durationMs: dbMs + latency(rng, route.startsWith('POST') ? 60 : 15) };
}
