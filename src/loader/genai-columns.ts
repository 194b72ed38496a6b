/**
 * The GenAI columns of otel_traces, in table order: name and ClickHouse type; each holds the field
 * of the resolved GenAI values with the same name (genai/resolve.ts declares them). The span encoder
 * writes exactly these after the exporter's columns, and the loader checks them against the table at
 * start, so a new GenAI column is one entry in GENAI_SPAN_COLUMNS plus its field and its migration.
 */
import { GENAI_SPAN_COLUMNS } from './genai.js';
import type { Column } from './row-binary.js';

export const GENAI_COLUMNS: readonly Column[] = GENAI_SPAN_COLUMNS.map(([name, type]) => ({ name, type }));
