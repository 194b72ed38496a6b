/**
 * `sieve demo [--duration 30s]`: a realistic AI-agent workload sent to a running Sieve through the
 * OpenTelemetry JS SDK — agent runs, LLM calls across providers and models with tokens, tool calls
 * that fail and time out, logs, metrics, and a few PII values for the pipeline to scrub — with
 * progress on the terminal. Then `sieve stats` shows it.
 */
import { parseArgs } from 'node:util';
import { createColors } from 'picocolors';
import { DemoTelemetry } from '../demo/emit.js';
import { AGENTS, DEMO_PII, HTTP_SERVICE, pick, planAgentRun, planHttpRequest, seededRandom } from '../demo/workload.js';

export const DEMO_USAGE = `usage: sieve demo [--duration 30s] [--endpoint URL] [--rate N] [--seed N]
  --duration D   how long to send: 30s (default), 2m, 500ms; at most 1h
  --endpoint U   Sieve's OTLP/HTTP endpoint (default $OTEL_EXPORTER_OTLP_ENDPOINT, else http://127.0.0.1:4318);
                 outside --dev mode set OTEL_EXPORTER_OTLP_HEADERS="x-api-key=<key>"
  --rate N       agent runs per second (default 2; the HTTP service adds 4 requests per run)
  --seed N       random seed (default: random)
`;

/** "30s", "2m", "500ms", "45" (seconds) → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration: expected e.g. 30s, 2m or 500ms, got ${JSON.stringify(text)}`);
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = Number(m[1]) * (unit[m[2] ?? 's'] ?? 1000);
  if (ms <= 0 || ms > 3_600_000) throw new Error(`--duration must be more than 0 and at most 1h, got ${text}`);
  return ms;
}

interface Progress {
  runs: number;
  failedRuns: number;
  llmCalls: number;
  tokens: number;
  toolCalls: number;
  toolErrors: number;
  toolTimeouts: number;
  requests: number;
  spans: number;
  logs: number;
}

/** Answers anything at all (even 404/405): something listens there. */
async function reachable(endpoint: string): Promise<string | undefined> {
  try {
    await fetch(`${endpoint.replace(/\/$/, '')}/v1/traces`, { signal: AbortSignal.timeout(5000) });
    return undefined;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}

export async function runDemo(args: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '30s' },
      endpoint: { type: 'string' },
      rate: { type: 'string', default: '2' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    out.write(DEMO_USAGE);
    return 0;
  }
  const durationMs = parseDuration(values.duration ?? '30s');
  const rate = Number(values.rate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 200)
    throw new Error(`--rate must be a number above 0 and at most 200, got ${values.rate}`);
  const endpoint = (values.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://127.0.0.1:4318').replace(
    /\/$/,
    '',
  );
  const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const c = createColors(out.isTTY === true && !process.env.NO_COLOR);

  const problem = await reachable(endpoint);
  if (problem) {
    process.stderr.write(
      `sieve demo: nothing answers at ${endpoint} (${problem}). Start Sieve first (\`npm run up\`), or pass --endpoint.\n`,
    );
    return 1;
  }

  out.write(
    `${c.bold('sieve demo')} → ${endpoint} for ${durationMs / 1000} s: agents ${AGENTS.map((a) => `${a.agent} (${a.service}, tenant ${a.tenant})`).join(', ')}` +
      ` and ${HTTP_SERVICE.service} (tenant ${HTTP_SERVICE.tenant})\n`,
  );
  const rng = seededRandom(seed);
  const telemetry = new DemoTelemetry({ endpoint });
  const p: Progress = {
    runs: 0,
    failedRuns: 0,
    llmCalls: 0,
    tokens: 0,
    toolCalls: 0,
    toolErrors: 0,
    toolTimeouts: 0,
    requests: 0,
    spans: 0,
    logs: 0,
  };
  const line = (elapsedMs: number) =>
    `${c.dim(`${(elapsedMs / 1000).toFixed(0).padStart(3)}s/${durationMs / 1000}s`)} ` +
    `${p.runs} agent runs (${p.failedRuns} failed) · ${p.llmCalls} LLM calls, ${p.tokens.toLocaleString('en-US')} tokens · ` +
    `${p.toolCalls} tool calls (${p.toolErrors} errors, ${p.toolTimeouts} timeouts) · ${p.requests} HTTP requests · ` +
    `${p.spans} spans, ${p.logs} logs sent`;

  let stop = false;
  const onInt = () => {
    stop = true;
  };
  process.once('SIGINT', onInt);
  const started = Date.now();
  let runsDue = 0;
  let lastTick = started;
  let lastPrinted = 0;
  while (!stop) {
    const now = Date.now();
    const elapsed = now - started;
    if (elapsed >= durationMs) break;
    runsDue += ((now - lastTick) / 1000) * rate;
    lastTick = now;
    for (; runsDue >= 1; runsDue--) {
      const plan = planAgentRun(rng, pick(rng, AGENTS));
      telemetry.agentRun(plan, now, p.runs);
      p.runs++;
      if (plan.failed) p.failedRuns++;
      p.spans += 1 + plan.steps.length;
      p.logs += 2 + plan.steps.filter((s) => s.kind === 'tool' || s.error).length + (p.runs % 10 === 4 ? 1 : 0);
      for (const s of plan.steps) {
        if (s.kind === 'llm') {
          p.llmCalls++;
          if (!s.error) p.tokens += s.inputTokens + s.outputTokens;
        } else {
          p.toolCalls++;
          if (s.outcome === 'error') p.toolErrors++;
          if (s.outcome === 'timeout') p.toolTimeouts++;
        }
      }
      for (let i = 0; i < 4; i++) {
        const req = planHttpRequest(rng);
        telemetry.httpRequest(req, now, HTTP_SERVICE.service, HTTP_SERVICE.tenant);
        p.requests++;
        p.spans += 2;
        if (req.status >= 400) p.logs++;
      }
    }
    if (out.isTTY) {
      if (now - lastPrinted >= 250) {
        out.write(`\r\x1b[2K${line(elapsed)}`);
        lastPrinted = now;
      }
    } else if (now - lastPrinted >= 5000) {
      out.write(`${line(elapsed)}\n`);
      lastPrinted = now;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.off('SIGINT', onInt);
  out.write(
    out.isTTY ? `\r\x1b[2K${line(Math.min(Date.now() - started, durationMs))}\n` : `${line(Date.now() - started)}\n`,
  );
  out.write(c.dim('flushing the OpenTelemetry SDK…\n'));
  const t = telemetry.tally;
  // the metric reader's last export rejects shutdown() when Sieve refused it; the tally has the rest
  let shutdownError = 0;
  await telemetry.shutdown().catch((err: Error) => {
    shutdownError = 1;
    t.lastError ??= err.message;
  });
  const failed = t.failed.traces + t.failed.logs + t.failed.metrics + shutdownError;
  out.write(
    `exported ${t.ok.traces} trace, ${t.ok.logs} log and ${t.ok.metrics} metric requests${failed ? c.red(`; ${failed} failed: ${t.lastError}`) : ''}\n`,
  );
  if (failed > 0) {
    if (/401|403|unauthorized|forbidden/i.test(t.lastError ?? ''))
      out.write(
        'Sieve wants an API key: set OTEL_EXPORTER_OTLP_HEADERS="x-api-key=<key>" (or run Sieve with --dev).\n',
      );
    return 1;
  }
  out.write(
    `PII sent on purpose: ${DEMO_PII.emails.join(', ')}, ${DEMO_PII.phone}, card ${DEMO_PII.card}, IP ${DEMO_PII.ip} — ` +
      "Sieve's pipeline hashed or removed them before Kafka.\n",
  );
  out.write(`${c.bold('Next:')} npx sieve stats   (the rollups fill within seconds; add --watch to follow)\n`);
  return 0;
}
