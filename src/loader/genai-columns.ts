/**
 * The GenAI columns of otel_traces, in table order: name, ClickHouse type and where the value comes
 * from in `extractGenAi`'s output. The span encoder writes exactly these after the exporter's columns
 * (and the loader checks them against the table at start), so a new GenAI column is one line here
 * plus its field in genai.ts and its migration.
 */
import type { GenAiFields } from './genai.js';
import type { Column } from './row-binary.js';

export interface GenAiColumn extends Column {
  value: (f: GenAiFields) => string | number;
}

export const GENAI_COLUMNS: readonly GenAiColumn[] = [
  { name: 'GenAiProvider', type: 'LowCardinality(String)', value: (f) => f.GenAiProvider },
  { name: 'GenAiOperation', type: 'LowCardinality(String)', value: (f) => f.GenAiOperation },
  { name: 'GenAiRequestModel', type: 'LowCardinality(String)', value: (f) => f.GenAiRequestModel },
  { name: 'GenAiResponseModel', type: 'LowCardinality(String)', value: (f) => f.GenAiResponseModel },
  { name: 'GenAiInputTokens', type: 'UInt64', value: (f) => f.GenAiInputTokens },
  { name: 'GenAiOutputTokens', type: 'UInt64', value: (f) => f.GenAiOutputTokens },
  { name: 'GenAiCacheReadTokens', type: 'UInt64', value: (f) => f.GenAiCacheReadTokens },
  { name: 'GenAiReasoningTokens', type: 'UInt64', value: (f) => f.GenAiReasoningTokens },
  { name: 'GenAiToolName', type: 'LowCardinality(String)', value: (f) => f.GenAiToolName },
  { name: 'GenAiAgentName', type: 'LowCardinality(String)', value: (f) => f.GenAiAgentName },
  { name: 'GenAiPromptHash', type: 'String', value: (f) => f.GenAiPromptHash },
  { name: 'GenAiCostUsd', type: 'Float64', value: (f) => f.GenAiCostUsd },
  { name: 'GenAiCostSource', type: 'LowCardinality(String)', value: (f) => f.GenAiCostSource },
];
