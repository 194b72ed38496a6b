/**
 * `sieve reprice`: recomputes the stored cost of the spans of a past window after pricing.yaml changed,
 * with the loader's own cost function, then rebuilds llm_1m for that window so the rollup equals the
 * raw table again.
 *
 * Per chunk (an hour by default, whole minutes): read the priced spans (cost source pricing,
 * unknown_model or invalid_usage — a cost the span carried itself is never touched), price them, put
 * the changed costs in a temporary Join table, update otel_traces with joinGetOrNull (a span the
 * Join table does not hold keeps its cost), then replace the chunk's llm_1m rows with the llm_1m_mv
 * query run over the chunk.
 */
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { priceSpan } from './genai/resolve.js';
import type { PricingTable } from './pricing.js';

export interface RepriceOptions {
  client: ClickHouseClient;
  database: string;
  pricing: PricingTable;
  /** ms since epoch; rounded down / up to whole minutes */
  fromMs: number;
  toMs: number;
  chunkMs?: number;
  log?: (line: string) => void;
}

export interface RepriceResult {
  spans: number;
  changed: number;
  chunks: number;
}

interface PricedRow {
  k: string;
  t: string;
  GenAiProvider: string;
  GenAiRequestModel: string;
  GenAiResponseModel: string;
  GenAiInputTokens: string;
  GenAiOutputTokens: string;
  GenAiCacheReadTokens: string;
  GenAiCacheCreationTokens: string;
  GenAiReasoningTokens: string;
  GenAiCostUsd: number;
  GenAiCostSource: string;
}

const MINUTE = 60_000;
const sqlTime = (ms: number) => `toDateTime64(${ms / 1000}, 3)`;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/** The llm_1m_mv query, reading only otel_traces rows in [from, to). */
async function rollupQuery(client: ClickHouseClient, database: string, fromMs: number, toMs: number): Promise<string> {
  const rs = await client.query({
    query: 'SELECT as_select FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    query_params: { db: database, name: 'llm_1m_mv' },
    format: 'JSONEachRow',
  });
  const [row] = (await rs.json()) as { as_select: string }[];
  if (!row?.as_select) throw new Error(`${database}.llm_1m_mv not found: run \`sieve migrate\` first`);
  const from = new RegExp(`FROM\\s+\`?${database}\`?\\.\`?otel_traces\`?`, 'g');
  const hits = row.as_select.match(from)?.length ?? 0;
  if (hits !== 1) throw new Error(`unexpected llm_1m_mv definition (${hits} reads of otel_traces): ${row.as_select}`);
  const select = row.as_select.replace(
    from,
    `FROM (SELECT * FROM ${database}.otel_traces WHERE Timestamp >= ${sqlTime(fromMs)} AND Timestamp < ${sqlTime(toMs)})`,
  );
  // INSERT … SELECT maps by position: name the columns (a materialized view maps them by name)
  const cols = await client.query({
    query: 'SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position',
    query_params: { db: database, t: 'llm_1m' },
    format: 'JSONEachRow',
  });
  const names = ((await cols.json()) as { name: string }[]).map((c) => `\`${c.name}\``).join(', ');
  return `(${names}) SELECT ${names} FROM (${select})`;
}

export async function reprice(opts: RepriceOptions): Promise<RepriceResult> {
  const { client, database, pricing } = opts;
  const log = opts.log ?? (() => {});
  const from = Math.floor(opts.fromMs / MINUTE) * MINUTE;
  const to = Math.ceil(opts.toMs / MINUTE) * MINUTE;
  if (!(to > from)) throw new Error('reprice: --to must be after --from');
  const chunkMs = Math.max(MINUTE, Math.floor((opts.chunkMs ?? 3_600_000) / MINUTE) * MINUTE);
  const chunks = Math.ceil((to - from) / chunkMs);
  const result: RepriceResult = { spans: 0, changed: 0, chunks };
  for (let i = 0; i < chunks; i++) {
    const a = from + i * chunkMs;
    const b = Math.min(to, a + chunkMs);
    const window = `Timestamp >= ${sqlTime(a)} AND Timestamp < ${sqlTime(b)}`;
    const priced = `GenAiCostSource IN ('pricing', 'unknown_model', 'invalid_usage')`;
    const rs = await client.query({
      query: `SELECT concat(TraceId, SpanId) AS k, toUnixTimestamp64Milli(Timestamp) AS t, GenAiProvider, GenAiRequestModel,
          GenAiResponseModel, GenAiInputTokens, GenAiOutputTokens, GenAiCacheReadTokens, GenAiCacheCreationTokens,
          GenAiReasoningTokens, GenAiCostUsd, GenAiCostSource
        FROM ${database}.otel_traces WHERE ${window} AND ${priced}`,
      format: 'JSONEachRow',
    });
    const changes: { k: string; cost: number; source: string }[] = [];
    let read = 0;
    for await (const batch of rs.stream<PricedRow>()) {
      for (const r of batch) {
        const row = r.json<PricedRow>();
        read++;
        const p = priceSpan(
          pricing,
          {
            GenAiProvider: row.GenAiProvider,
            GenAiRequestModel: row.GenAiRequestModel,
            GenAiResponseModel: row.GenAiResponseModel,
            GenAiInputTokens: Number(row.GenAiInputTokens),
            GenAiOutputTokens: Number(row.GenAiOutputTokens),
            GenAiCacheReadTokens: Number(row.GenAiCacheReadTokens),
            GenAiCacheCreationTokens: Number(row.GenAiCacheCreationTokens),
            GenAiReasoningTokens: Number(row.GenAiReasoningTokens),
          },
          Number(row.t),
        );
        const source = row.GenAiCostSource === 'invalid_usage' ? 'invalid_usage' : p.source;
        if (p.cost !== Number(row.GenAiCostUsd) || source !== row.GenAiCostSource)
          changes.push({ k: row.k, cost: p.cost, source });
      }
    }
    if (changes.length > 0) {
      const tmp = `${database}.sieve_reprice_${randomBytes(6).toString('hex')}`;
      await client.command({
        query: `CREATE TABLE ${tmp} (k String, cost Float64, source String) ENGINE = Join(ANY, LEFT, k)`,
      });
      try {
        await client.insert({ table: tmp, values: changes, format: 'JSONEachRow' });
        await client.command({
          query: `ALTER TABLE ${database}.otel_traces
            UPDATE GenAiCostUsd = ifNull(joinGetOrNull('${tmp}', 'cost', concat(TraceId, SpanId)), GenAiCostUsd),
                   GenAiCostSource = ifNull(joinGetOrNull('${tmp}', 'source', concat(TraceId, SpanId)), GenAiCostSource)
            WHERE ${window} AND ${priced}`,
          clickhouse_settings: { mutations_sync: '2', allow_nondeterministic_mutations: 1 },
        });
      } finally {
        await client.command({ query: `DROP TABLE IF EXISTS ${tmp}` });
      }
      // the rollup of the chunk's minutes, rebuilt from the raw rows
      await client.command({
        query: `ALTER TABLE ${database}.llm_1m DELETE WHERE Minute >= toDateTime(${a / 1000}) AND Minute < toDateTime(${b / 1000})`,
        clickhouse_settings: { mutations_sync: '2' },
      });
      await client.command({
        query: `INSERT INTO ${database}.llm_1m ${await rollupQuery(client, database, a, b)}`,
      });
    }
    result.spans += read;
    result.changed += changes.length;
    log(
      `reprice ${i + 1}/${chunks} ${iso(a)} → ${iso(b)} UTC: ${read} priced spans, ${changes.length} costs changed${changes.length ? ', llm_1m rebuilt' : ''}`,
    );
  }
  return result;
}
