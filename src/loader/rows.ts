/**
 * Kafka message value → rows per table: the one entry point from a message to what is inserted.
 * Spans go to otel_traces as RowBinary straight from the protobuf bytes (traces-rowbinary.ts); logs
 * and metrics are decoded and written as JSONEachRow lines (logs-rows.ts, metrics-rows.ts).
 * Throws for a poison message (not OTLP protobuf, a timestamp outside DateTime64(9)): the caller
 * sends it to the DLQ. An otlp_json message is turned into otlp_proto bytes before (job.ts,
 * ../otlp/kafka-value.ts).
 */
import { decodeProtobuf } from '../otlp/codec.js';
import type { Signal } from '../otlp/model.js';
import type { CompiledDialects, GenAiHooks } from './genai.js';
import { logRows } from './logs-rows.js';
import { metricRows } from './metrics-rows.js';
import type { PricingTable } from './pricing.js';
import { type Column, nativeInsert, rowBinaryInsert } from './row-binary.js';
import { TRACE_COLUMNS, traceRowBinary } from './traces-rowbinary.js';

/**
 * How a table's rows are written: RowBinary with its explicit column list; Native, its columns' values
 * column by column (one block per insert: native-block.ts); or JSONEachRow by name.
 */
export type InsertFormat =
  | { table: string; format: 'RowBinary' | 'Native'; columns: readonly Column[] }
  | { table: string; format: 'JSONEachRow' };

/**
 * How spans go to otel_traces (SIEVE_LOADER_INSERT_FORMAT). Native by default: the engine parses it
 * for about half the CPU of RowBinary, whose LowCardinality values cost a dictionary lookup each
 * (native-block.ts); RowBinary costs the loader less.
 */
export type RowFormat = 'RowBinary' | 'Native';
export const ROW_FORMATS: readonly RowFormat[] = ['RowBinary', 'Native'];
export const DEFAULT_ROW_FORMAT: RowFormat = 'Native';

/** One message's rows for one table, encoded in the table's insert format. */
export interface TableRows {
  insert: InsertFormat;
  data: Buffer;
  rows: number;
}

export type RowsByTable = Map<string, TableRows>;

/** Pricing, AI dialect tables (default: the shipped presets), the GenAI counters' hooks, the spans' format. */
export interface RowContext extends GenAiHooks {
  pricing?: PricingTable;
  dialects?: CompiledDialects;
  /** default RowBinary (the loader's default: DEFAULT_ROW_FORMAT) */
  insertFormat?: RowFormat;
}

/** Tables written as RowBinary, with the columns their encoder writes (the loader checks them at start). */
export const ROW_BINARY_TABLES: Partial<Record<Signal, InsertFormat & { format: 'RowBinary' }>> = {
  traces: { table: 'otel_traces', format: 'RowBinary', columns: TRACE_COLUMNS },
};
const NATIVE_TRACES: InsertFormat = { table: 'otel_traces', format: 'Native', columns: TRACE_COLUMNS };

export function messageToRows(signal: Signal, value: Buffer, ctx: RowContext = {}): RowsByTable {
  const out: RowsByTable = new Map();
  if (signal === 'traces') {
    const native = ctx.insertFormat === 'Native';
    const insert = native ? NATIVE_TRACES : ROW_BINARY_TABLES.traces!;
    const { data, rows } = traceRowBinary(value, { ...ctx, layout: native ? 'columns' : 'rows' });
    if (rows > 0) out.set(insert.table, { insert, data, rows });
    return out;
  }
  const addJson = (table: string, rows: Record<string, unknown>[]) => {
    if (rows.length === 0) return;
    let text = '';
    for (const r of rows) text += `${JSON.stringify(r)}\n`;
    out.set(table, { insert: { table, format: 'JSONEachRow' }, data: Buffer.from(text), rows: rows.length });
  };
  if (signal === 'logs') addJson('otel_logs', logRows(decodeProtobuf('logs', value)));
  else for (const [t, rows] of Object.entries(metricRows(decodeProtobuf('metrics', value), ctx))) addJson(t, rows);
  return out;
}

/** The INSERT statement for one table's rows. */
export function insertStatement(database: string, insert: InsertFormat): string {
  if (insert.format === 'Native') return nativeInsert(database, insert.table);
  return insert.format === 'RowBinary'
    ? rowBinaryInsert(database, insert.table, insert.columns)
    : `INSERT INTO ${database}.${insert.table} FORMAT JSONEachRow`;
}
