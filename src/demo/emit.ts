/**
 * Turns the demo's plans (workload.ts) into telemetry through the real OpenTelemetry JS SDK: one
 * tracer, logger and meter provider per simulated service, exporting OTLP/HTTP protobuf to Sieve
 * exactly as a user's service would. Spans carry OpenTelemetry GenAI semantic-convention attributes
 * (gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.input_tokens, …) and explicit times,
 * so a simulated 3-second agent run costs no waiting.
 */
import { randomUUID } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  type Histogram,
  type Meter,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type Logger, SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { type AgentRunPlan, DEMO_PII, type HttpRequestPlan } from './workload.js';

export type SignalName = 'traces' | 'logs' | 'metrics';

export interface ExportTally {
  ok: Record<SignalName, number>;
  failed: Record<SignalName, number>;
  lastError?: string;
}

interface ExportResultLike {
  code: number; // ExportResultCode: 0 = SUCCESS, 1 = FAILED
  error?: Error;
}

/** The exporter with its export() results counted (all other members pass through). */
function tallied<T extends object>(exporter: T, signal: SignalName, tally: ExportTally): T {
  return new Proxy(exporter, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop !== 'export' || typeof value !== 'function')
        return typeof value === 'function' ? value.bind(target) : value;
      return (items: unknown, done: (r: ExportResultLike) => void) =>
        value.call(target, items, (r: ExportResultLike) => {
          if (r.code === 0) tally.ok[signal]++;
          else {
            tally.failed[signal]++;
            tally.lastError = r.error?.message ?? 'export failed';
          }
          done(r);
        });
    },
  });
}

interface ServiceTelemetry {
  tracer: Tracer;
  logger: Logger;
  tokenUsage: Histogram;
  operationDuration: Histogram;
  httpDuration: Histogram;
}

export interface DemoTelemetryOptions {
  /** base URL, e.g. http://127.0.0.1:4318 (the SDK adds /v1/traces …) */
  endpoint: string;
  exportIntervalMs?: number;
}

export class DemoTelemetry {
  readonly tally: ExportTally = { ok: { traces: 0, logs: 0, metrics: 0 }, failed: { traces: 0, logs: 0, metrics: 0 } };
  private readonly services = new Map<string, ServiceTelemetry>();
  private readonly providers: { forceFlush(): Promise<void>; shutdown(): Promise<void> }[] = [];

  constructor(private readonly opts: DemoTelemetryOptions) {}

  private service(name: string, tenant: string): ServiceTelemetry {
    const existing = this.services.get(name);
    if (existing) return existing;
    const url = (path: string) => `${this.opts.endpoint.replace(/\/$/, '')}${path}`;
    const interval = this.opts.exportIntervalMs ?? 1000;
    const resource = resourceFromAttributes({
      'service.name': name,
      'service.version': '1.4.2',
      'deployment.environment.name': 'demo',
      'tenant.id': tenant,
      'host.name': `${name}-7f9c`,
      'host.ip': '10.0.3.17', // the default pipeline deletes it
    });
    const traces = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: tallied(new OTLPTraceExporter({ url: url('/v1/traces') }), 'traces', this.tally),
          scheduledDelayMillis: interval,
        }),
      ],
    });
    const logs = new LoggerProvider({
      resource,
      processors: [
        new BatchLogRecordProcessor({
          exporter: tallied(new OTLPLogExporter({ url: url('/v1/logs') }), 'logs', this.tally),
          scheduledDelayMillis: interval,
        }),
      ],
    });
    const metrics = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: tallied(new OTLPMetricExporter({ url: url('/v1/metrics') }), 'metrics', this.tally),
          exportIntervalMillis: Math.max(interval, 5000),
        }),
      ],
    });
    this.providers.push(traces, logs, metrics);
    const meter: Meter = metrics.getMeter('sieve-demo', '1.0.0');
    const s: ServiceTelemetry = {
      tracer: traces.getTracer('sieve-demo', '1.0.0'),
      logger: logs.getLogger('sieve-demo', '1.0.0'),
      tokenUsage: meter.createHistogram('gen_ai.client.token.usage', {
        unit: '{token}',
        description: 'Measures number of input and output tokens used',
        advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576] },
      }),
      operationDuration: meter.createHistogram('gen_ai.client.operation.duration', {
        unit: 's',
        description: 'GenAI operation duration',
      }),
      httpDuration: meter.createHistogram('http.server.request.duration', {
        unit: 's',
        description: 'Duration of HTTP server requests',
      }),
    };
    this.services.set(name, s);
    return s;
  }

  private log(
    s: ServiceTelemetry,
    ctx: Context,
    at: number,
    severity: SeverityNumber,
    body: string,
    attrs: Attributes = {},
  ) {
    const text = { [SeverityNumber.DEBUG]: 'DEBUG', [SeverityNumber.INFO]: 'INFO', [SeverityNumber.WARN]: 'WARN' }[
      severity as number
    ];
    s.logger.emit({
      timestamp: at,
      severityNumber: severity,
      severityText: text ?? 'ERROR',
      body,
      attributes: attrs,
      context: ctx,
    });
  }

  /** Emits one agent run that ends at `endMs`: the invoke_agent span, its LLM and tool spans, logs, metrics. */
  agentRun(plan: AgentRunPlan, endMs: number, runNumber: number): void {
    const { spec } = plan;
    const s = this.service(spec.service, spec.tenant);
    const start = endMs - plan.durationMs;
    const conversation = randomUUID();
    const agent = s.tracer.startSpan(`invoke_agent ${spec.agent}`, {
      kind: SpanKind.INTERNAL,
      startTime: start,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': spec.agent,
        'gen_ai.conversation.id': conversation,
        'user.id': `user-${runNumber % 17}`,
        'user.email': plan.userEmail, // hashed by the default pipeline's attributes/pii
        'client.address': DEMO_PII.ip,
      },
    });
    const ctx = trace.setSpan(context.active(), agent);
    this.log(
      s,
      ctx,
      start,
      SeverityNumber.INFO,
      `new request from ${plan.userEmail} (callback ${DEMO_PII.phone})`, // redacted by the pipeline's detectors
      { 'gen_ai.agent.name': spec.agent },
    );
    if (runNumber % 10 === 3)
      this.log(s, ctx, start + 1, SeverityNumber.INFO, `customer disputes a charge on card ${DEMO_PII.card}`);
    let t = start + 2;
    for (const step of plan.steps) {
      if (step.kind === 'llm') {
        const m = step.model;
        const attrs: Attributes = {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': m.provider,
          'gen_ai.request.model': m.requestModel,
          'gen_ai.request.temperature': 0.2,
          'gen_ai.request.max_tokens': 1024,
          'server.address':
            { openai: 'api.openai.com', anthropic: 'api.anthropic.com' }[m.provider] ?? 'googleapis.com',
          'gen_ai.input.messages': JSON.stringify([
            { role: 'user', parts: [{ type: 'text', content: `Help ${plan.userEmail}, phone ${DEMO_PII.phone}` }] },
          ]),
        };
        if (!step.error) {
          Object.assign(attrs, {
            'gen_ai.response.model': m.responseModel,
            'gen_ai.response.id': `resp_${randomUUID().slice(0, 12)}`,
            'gen_ai.response.finish_reasons': [step.finishReason],
            'gen_ai.usage.input_tokens': step.inputTokens,
            'gen_ai.usage.output_tokens': step.outputTokens,
            ...(step.cacheReadTokens > 0 ? { 'gen_ai.usage.cache_read.input_tokens': step.cacheReadTokens } : {}),
          });
        }
        const span = s.tracer.startSpan(
          `chat ${m.requestModel}`,
          { kind: SpanKind.CLIENT, startTime: t, attributes: attrs },
          ctx,
        );
        const metricAttrs = {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': m.provider,
          'gen_ai.request.model': m.requestModel,
          ...(step.error ? { 'error.type': step.error } : { 'gen_ai.response.model': m.responseModel }),
        };
        if (step.error) {
          span.setAttribute('error.type', step.error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: `429 ${step.error}` });
          this.log(
            s,
            trace.setSpan(ctx, span),
            t + step.durationMs,
            SeverityNumber.WARN,
            `${m.provider} refused the call: ${step.error}`,
          );
        } else {
          s.tokenUsage.record(step.inputTokens, { ...metricAttrs, 'gen_ai.token.type': 'input' });
          s.tokenUsage.record(step.outputTokens, { ...metricAttrs, 'gen_ai.token.type': 'output' });
        }
        s.operationDuration.record(step.durationMs / 1000, metricAttrs);
        span.end(t + step.durationMs);
      } else {
        const span = s.tracer.startSpan(
          `execute_tool ${step.tool.name}`,
          {
            kind: SpanKind.INTERNAL,
            startTime: t,
            attributes: {
              'gen_ai.operation.name': 'execute_tool',
              'gen_ai.tool.name': step.tool.name,
              'gen_ai.tool.type': 'function',
              'gen_ai.tool.call.id': `call_${randomUUID().slice(0, 8)}`,
            },
          },
          ctx,
        );
        const toolCtx = trace.setSpan(ctx, span);
        if (step.outcome === 'timeout') {
          span.setAttribute('error.type', 'timeout');
          span.setStatus({ code: SpanStatusCode.ERROR, message: `timed out after ${step.durationMs / 1000} s` });
          this.log(
            s,
            toolCtx,
            t + step.durationMs,
            SeverityNumber.WARN,
            `tool ${step.tool.name} timed out after ${step.durationMs / 1000} s`,
          );
        } else if (step.outcome === 'error') {
          span.setAttribute('error.type', step.tool.failureType);
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${step.tool.name} failed: ${step.tool.failureType}` });
          span.addEvent(
            'exception',
            { 'exception.type': step.tool.failureType, 'exception.message': 'tool call failed' },
            t + step.durationMs,
          );
          this.log(
            s,
            toolCtx,
            t + step.durationMs,
            SeverityNumber.ERROR,
            `tool ${step.tool.name} failed: ${step.tool.failureType}`,
          );
        } else {
          this.log(
            s,
            toolCtx,
            t + step.durationMs,
            SeverityNumber.DEBUG,
            `tool ${step.tool.name} returned in ${step.durationMs} ms`,
          );
        }
        span.end(t + step.durationMs);
      }
      t += step.durationMs + 5;
    }
    if (plan.failed) {
      agent.setAttribute('error.type', plan.failed);
      agent.setStatus({ code: SpanStatusCode.ERROR, message: plan.failed });
      this.log(s, ctx, endMs, SeverityNumber.ERROR, `${spec.agent} run failed: ${plan.failed}`);
    } else {
      agent.setStatus({ code: SpanStatusCode.OK });
      this.log(s, ctx, endMs, SeverityNumber.INFO, `${spec.agent} answered in ${plan.steps.length} steps`);
    }
    agent.end(endMs);
  }

  /** Emits one HTTP request of the plain service: a server span with a database child span. */
  httpRequest(plan: HttpRequestPlan, endMs: number, service: string, tenant: string): void {
    const s = this.service(service, tenant);
    const start = endMs - plan.durationMs;
    const [method, route] = plan.route.split(' ') as [string, string];
    const server = s.tracer.startSpan(plan.route, {
      kind: SpanKind.SERVER,
      startTime: start,
      attributes: {
        'http.request.method': method,
        'http.route': route,
        'url.path': route,
        'url.scheme': 'https',
        'http.response.status_code': plan.status,
        'client.address': DEMO_PII.ip,
        'user_agent.original': 'Mozilla/5.0 (demo)',
      },
    });
    const ctx = trace.setSpan(context.active(), server);
    const db = s.tracer.startSpan(
      method === 'GET' ? 'SELECT cart_items' : 'INSERT orders',
      {
        kind: SpanKind.CLIENT,
        startTime: start + 1,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': method === 'GET' ? 'SELECT' : 'INSERT',
          'db.collection.name': method === 'GET' ? 'cart_items' : 'orders',
        },
      },
      ctx,
    );
    db.end(start + 1 + plan.dbMs);
    if (plan.status >= 500) {
      server.setStatus({ code: SpanStatusCode.ERROR, message: 'payment provider unavailable' });
      server.setAttribute('error.type', String(plan.status));
      this.log(s, ctx, endMs, SeverityNumber.ERROR, `${plan.route} → ${plan.status}: payment provider unavailable`);
    } else if (plan.status >= 400) {
      this.log(s, ctx, endMs, SeverityNumber.WARN, `${plan.route} → ${plan.status}: invalid cart`);
    }
    server.end(endMs);
    s.httpDuration.record(plan.durationMs / 1000, {
      'http.request.method': method,
      'http.route': route,
      'http.response.status_code': plan.status,
    });
  }

  async flush(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.forceFlush()));
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.providers.map((p) => p.shutdown()));
  }
}
