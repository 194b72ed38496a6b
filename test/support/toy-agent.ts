/**
 * A small instrumented "AI agent" built on the real OpenTelemetry JS SDK. It exports through the
 * OTLP/HTTP protobuf exporters configured only by OTEL_EXPORTER_OTLP_ENDPOINT (and
 * OTEL_EXPORTER_OTLP_HEADERS), exactly as a user's service would.
 *
 * Each run emits: an `invoke_agent` span, per step one LLM `chat` span (GenAI attributes, tokens,
 * a prompt with an e-mail address in it) and one `execute_tool` span, plus a log record per step.
 */
import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface ToyAgentOptions {
  serviceName: string;
  runs: number;
  stepsPerRun: number;
  /** every Nth tool call fails (0 = never) */
  failEveryNthTool?: number;
  userEmail?: string;
}

export interface ToyAgentResult {
  spans: number;
  llmCalls: number;
  toolCalls: number;
  failedToolCalls: number;
  logs: number;
  inputTokens: number;
  outputTokens: number;
}

export async function runToyAgent(opts: ToyAgentOptions): Promise<ToyAgentResult> {
  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    'deployment.environment.name': 'test',
  });
  const tracerProvider = new TracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 100 })],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter(), scheduledDelayMillis: 100 })],
  });
  const tracer = tracerProvider.getTracer('toy-agent', '1.0.0');
  const logger = loggerProvider.getLogger('toy-agent');
  const result: ToyAgentResult = {
    spans: 0,
    llmCalls: 0,
    toolCalls: 0,
    failedToolCalls: 0,
    logs: 0,
    inputTokens: 0,
    outputTokens: 0,
  };
  let toolIndex = 0;
  const email = opts.userEmail ?? 'jane.doe@example.com';

  for (let run = 0; run < opts.runs; run++) {
    const agentSpan = tracer.startSpan('invoke_agent travel-planner', {
      kind: SpanKind.INTERNAL,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'travel-planner',
        'user.id': `user-${run % 3}`,
      },
    });
    result.spans++;
    const agentCtx = trace.setSpan(context.active(), agentSpan);
    for (let step = 0; step < opts.stepsPerRun; step++) {
      const inputTokens = 100 + step * 10;
      const outputTokens = 20 + step;
      const llmAttrs: Attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.usage.input_tokens': inputTokens,
        'gen_ai.usage.output_tokens': outputTokens,
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', content: `plan a trip, reply to ${email}` }]),
      };
      const llm = tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: llmAttrs }, agentCtx);
      llm.end();
      result.spans++;
      result.llmCalls++;
      result.inputTokens += inputTokens;
      result.outputTokens += outputTokens;

      toolIndex++;
      const fails = opts.failEveryNthTool ? toolIndex % opts.failEveryNthTool === 0 : false;
      const tool = tracer.startSpan(
        'execute_tool search_flights',
        {
          kind: SpanKind.INTERNAL,
          attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'search_flights' },
        },
        agentCtx,
      );
      if (fails) {
        tool.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
        tool.setAttribute('error.type', 'timeout');
        result.failedToolCalls++;
      }
      tool.end();
      result.spans++;
      result.toolCalls++;

      logger.emit({
        severityNumber: fails ? 17 : 9,
        severityText: fails ? 'ERROR' : 'INFO',
        body: `step ${step} of run ${run} for ${email}`,
        attributes: { 'agent.step': step },
        context: agentCtx,
      });
      result.logs++;
    }
    agentSpan.setStatus({ code: SpanStatusCode.OK });
    agentSpan.end();
  }
  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  return result;
}
