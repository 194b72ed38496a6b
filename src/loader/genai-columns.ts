/**
 * The GenAI columns of otel_traces, in table order: name, ClickHouse type and the field of the
 * resolved GenAI values it holds (genai/resolve.ts declares them). The span encoder writes exactly
 * these after the exporter's columns, and the loader checks them against the table at start, so a
 * new GenAI column is one entry in GENAI_SPAN_COLUMNS plus its field and its migration.
 */
import { GENAI_SPAN_COLUMNS, type GenAiFields } from './genai.js';
import type { Column } from './row-binary.js';

export interface GenAiColumn extends Column {
  value: (f: GenAiFields) => string | number;
}

export const GENAI_COLUMNS: readonly GenAiColumn[] = GENAI_SPAN_COLUMNS.map(([name, type]) => ({
  name,
  type,
  value: (f: GenAiFields) => f[name],
}));
