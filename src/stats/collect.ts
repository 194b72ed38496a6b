/**
 * Reads one `sieve stats` snapshot from the rollups with the dashboards' own SQL
 * (src/grafana/queries.ts), per minute for the sparklines and over the whole window for totals.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import * as Q from '../grafana/queries.js';
import { perMinuteScope, type StatsWindow, wholeWindowScope, windowMinutes } from './scope.js';

export interface ServiceStats {
  service: string;
  calls: number;
  ratePerSecond: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** spans per minute, oldest first */
  callsPerMinute: number[];
}

export interface ModelStats {
  provider: string;
  model: string;
  calls: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface ToolStats {
  tool: string;
  calls: number;
  errors: number;
  errorRate: number;
  p95Ms: number;
}

export interface SeverityStats {
  severity: string;
  count: number;
  perMinute: number[];
}

export interface StatsSnapshot {
  window: StatsWindow;
  services: ServiceStats[];
  models: ModelStats[];
  costByProvider: { provider: string; costUsd: number }[];
  costByTenant: { tenant: string; costUsd: number }[];
  tokens: { input: number; output: number; cacheRead: number; reasoning: number; perMinute: number[] };
  tools: ToolStats[];
  logs: SeverityStats[];
}

type Row = Record<string, unknown>;

async function rows(client: ClickHouseClient, sql: string): Promise<Row[]> {
  const rs = await client.query({
    query: sql,
    format: 'JSONEachRow',
    clickhouse_settings: { date_time_output_format: 'unix_timestamp', output_format_json_quote_64bit_integers: 0 },
  });
  return rs.json<Row>();
}

const num = (v: unknown): number => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};
const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

/** Spreads per-minute rows over the window's minutes (missing minutes are 0). */
function series(w: StatsWindow, list: Row[], value: (r: Row) => number): number[] {
  const minutes = windowMinutes(w);
  const index = new Map(minutes.map((m, i) => [m, i]));
  const out = minutes.map(() => 0);
  for (const r of list) {
    const i = index.get(num(r.time));
    if (i !== undefined) out[i] = (out[i] ?? 0) + value(r);
  }
  return out;
}

function groupBy(list: Row[], key: string): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of list) {
    const k = str(r[key]);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return m;
}

export async function collectStats(client: ClickHouseClient, w: StatsWindow): Promise<StatsSnapshot> {
  const minute = perMinuteScope(w);
  const whole = wholeWindowScope(w);
  const seconds = Number(whole.intervalSeconds);
  // chDB answers one query at a time anyway; sequential keeps a real server's load small too
  const rate = await rows(client, Q.requestRateByService(whole));
  const ratePerMinute = groupBy(await rows(client, Q.requestRateByService(minute)), 'ServiceName');
  const errors = new Map((await rows(client, Q.errorRateByService(whole))).map((r) => [str(r.ServiceName), r]));
  const latency = new Map((await rows(client, Q.latencyByService(whole))).map((r) => [str(r.ServiceName), r]));
  const services = rate
    .map((r): ServiceStats => {
      const service = str(r.ServiceName);
      const l = latency.get(service) ?? {};
      return {
        service,
        calls: Math.round(num(r.Rate) * seconds),
        ratePerSecond: num(r.Rate),
        errorRate: num(errors.get(service)?.ErrorRate),
        p50Ms: num(l.P50Ms),
        p95Ms: num(l.P95Ms),
        p99Ms: num(l.P99Ms),
        callsPerMinute: series(w, ratePerMinute.get(service) ?? [], (x) => Math.round(num(x.Rate) * 60)),
      };
    })
    .sort((a, b) => b.calls - a.calls || a.service.localeCompare(b.service));

  // calls, errors and latency from spans (modelsTable); tokens and cost from spans or metrics (usageByModel)
  const usage = await rows(client, Q.usageByModel(whole));
  const usageOf = new Map(usage.map((r) => [`${str(r.Provider)}\u0000${str(r.Model)}`, r]));
  const models = (await rows(client, Q.modelsTable(whole))).map((r): ModelStats => {
    const u = usageOf.get(`${str(r.Provider)}\u0000${str(r.Model)}`);
    usageOf.delete(`${str(r.Provider)}\u0000${str(r.Model)}`);
    return {
      provider: str(r.Provider),
      model: str(r.Model),
      calls: num(r.Calls),
      errorRate: num(r.ErrorRate),
      p50Ms: num(r.P50Ms),
      p95Ms: num(r.P95Ms),
      inputTokens: num(u?.InputTokens),
      outputTokens: num(u?.OutputTokens),
      costUsd: num(u?.CostUsd),
    };
  });
  // models seen only in metrics (an agent that sends no spans): no error rate or span latency
  for (const u of usageOf.values())
    models.push({
      provider: str(u.Provider),
      model: str(u.Model),
      calls: num(u.Calls),
      errorRate: 0,
      p50Ms: Number.NaN,
      p95Ms: Number.NaN,
      inputTokens: num(u.InputTokens),
      outputTokens: num(u.OutputTokens),
      costUsd: num(u.CostUsd),
    });
  const costByProvider = (await rows(client, Q.costByProvider(whole))).map((r) => ({
    provider: str(r.Provider),
    costUsd: num(r.CostUsd),
  }));
  const costByTenant = (await rows(client, Q.costByTenant(whole))).map((r) => ({
    tenant: str(r.TenantId),
    costUsd: num(r.CostUsd),
  }));
  const tokenTotal = (await rows(client, Q.tokensOverTime(whole)))[0] ?? {};
  const tokenMinutes = await rows(client, Q.tokensOverTime(minute));
  const tools = (await rows(client, Q.topFailingTools(whole))).map(
    (r): ToolStats => ({
      tool: str(r.ToolName),
      calls: num(r.Calls),
      errors: num(r.Errors),
      errorRate: num(r.ErrorRate),
      p95Ms: num(r.P95Ms),
    }),
  );
  const logTotals = await rows(client, Q.logVolumeBySeverity(whole));
  const logMinutes = groupBy(await rows(client, Q.logVolumeBySeverity(minute)), 'SeverityText');
  const logs = logTotals
    .map((r) => ({
      severity: str(r.SeverityText),
      count: num(r.Count),
      perMinute: series(w, logMinutes.get(str(r.SeverityText)) ?? [], (x) => num(x.Count)),
    }))
    .sort((a, b) => b.count - a.count);

  return {
    window: w,
    services,
    models,
    costByProvider,
    costByTenant,
    tokens: {
      input: num(tokenTotal.InputTokens),
      output: num(tokenTotal.OutputTokens),
      cacheRead: num(tokenTotal.CacheReadTokens),
      reasoning: num(tokenTotal.ReasoningTokens),
      perMinute: series(w, tokenMinutes, (x) => num(x.InputTokens) + num(x.OutputTokens)),
    },
    tools,
    logs,
  };
}

export function isEmpty(s: StatsSnapshot): boolean {
  return s.services.length === 0 && s.models.length === 0 && s.logs.length === 0;
}

export const ROLLUPS = ['spans_1m', 'llm_1m', 'logs_1m'] as const;

export interface SchemaCheck {
  databaseExists: boolean;
  missingTables: string[];
}

/** Whether the database exists and holds the rollups (run with a client that has no default database). */
export async function checkSchema(admin: ClickHouseClient, database: string): Promise<SchemaCheck> {
  const rs = await admin.query({
    query: `SELECT
      (SELECT count() FROM system.databases WHERE name = {db:String}) AS databases,
      (SELECT groupArray(name) FROM system.tables WHERE database = {db:String} AND name IN ({rollups:Array(String)})) AS tables`,
    query_params: { db: database, rollups: [...ROLLUPS] },
    format: 'JSONEachRow',
  });
  const row = (await rs.json<{ databases: number | string; tables: string[] }>())[0];
  const present = new Set(row?.tables ?? []);
  return {
    databaseExists: Number(row?.databases ?? 0) > 0,
    missingTables: ROLLUPS.filter((t) => !present.has(t)),
  };
}

/** Unix seconds of the newest minute in any rollup, 0 when they are all empty. */
export async function newestMinute(client: ClickHouseClient): Promise<number> {
  const r = await rows(
    client,
    `SELECT greatest((SELECT max(Minute) FROM spans_1m), (SELECT max(Minute) FROM llm_1m), (SELECT max(Minute) FROM logs_1m)) AS newest`,
  );
  return num(r[0]?.newest);
}
