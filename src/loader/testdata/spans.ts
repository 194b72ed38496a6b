// Synthetic span batches for loader tests and the bench (recent timestamps, ~1/3 GenAI spans, 20% errors).
import { randomBytes } from 'node:crypto';
import { intValue, stringValue } from '../../otlp/anyvalue.js';
import type { ExportTraceServiceRequest } from '../../otlp/model.js';

// recent timestamps: rows older than the raw TTL are dropped on insert
export const BASE = BigInt(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3 * 3_600_000) * 1_000_000n;
export function makeTraces(batch: number, n: number): ExportTraceServiceRequest {
  const spans = [];
  for (let i = 0; i < n; i++) {
    const k = batch * n + i;
    const start = BASE + BigInt(k) * 7_000_000_000n; // spread over many minutes
    const llm = k % 3 === 0;
    spans.push({
      traceId: Buffer.from(randomBytes(16)),
      spanId: Buffer.from(randomBytes(8)),
      name: `op${k % 4}`,
      kind: 2,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + BigInt(1_000_000 + (k % 97) * 100_000)).toString(),
      status: { code: k % 5 === 0 ? 2 : 0 },
      attributes: llm
        ? [
            { key: 'gen_ai.provider.name', value: stringValue('openai') },
            { key: 'gen_ai.operation.name', value: stringValue('chat') },
            { key: 'gen_ai.request.model', value: stringValue(k % 2 ? 'gpt-4o' : 'mystery') },
            { key: 'gen_ai.usage.input_tokens', value: intValue(100 + (k % 10)) },
            { key: 'gen_ai.usage.output_tokens', value: intValue(20) },
          ]
        : [],
    });
  }
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: stringValue(`svc${batch % 2}`) },
            { key: 'tenant.id', value: stringValue('acme') },
          ],
        },
        scopeSpans: [{ scope: { name: 's' }, spans }],
      },
    ],
  };
}
