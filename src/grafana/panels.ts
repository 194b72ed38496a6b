// Small builders for Grafana dashboard JSON (schemaVersion 39) with grafana-clickhouse-datasource targets.

export const CLICKHOUSE = { type: 'grafana-clickhouse-datasource', uid: 'sieve-clickhouse' } as const;
export const PROMETHEUS = { type: 'prometheus', uid: 'sieve-prometheus' } as const;

/** grafana-clickhouse-datasource Format enum */
export const Format = { TIME_SERIES: 0, TABLE: 1, LOGS: 2, TRACE: 3 } as const;

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ClickHouseTarget {
  refId: string;
  datasource: typeof CLICKHOUSE;
  editorType: 'sql';
  queryType: 'timeseries' | 'table' | 'logs' | 'traces';
  format: number;
  rawSql: string;
  meta?: Record<string, unknown>;
}

export interface PrometheusTarget {
  refId: string;
  datasource: typeof PROMETHEUS;
  expr: string;
  legendFormat?: string;
}

export type Target = ClickHouseTarget | PrometheusTarget;

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource: typeof CLICKHOUSE | typeof PROMETHEUS;
  gridPos: GridPos;
  targets: Target[];
  fieldConfig: { defaults: Record<string, unknown> & { unit: string }; overrides: unknown[] };
  options?: Record<string, unknown>;
  transformations?: unknown[];
}

export interface PanelSpec {
  type?: string;
  title: string;
  description?: string;
  sql?: string | string[];
  promql?: { expr: string; legend?: string }[];
  format?: number;
  unit: string;
  w?: number;
  h?: number;
  /** columns the panel reads (checked by the integration test) */
  columns: string[];
  overrides?: unknown[];
  options?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  transformations?: unknown[];
  /** variables used when the test runs this panel with specific values, beyond the dashboard's */
  traceView?: boolean;
}

const QUERY_TYPE: Record<number, ClickHouseTarget['queryType']> = {
  0: 'timeseries',
  1: 'table',
  2: 'logs',
  3: 'traces',
};

/** Lays panels out left to right in a 24-column grid. */
export function layout(specs: PanelSpec[]): { panels: Panel[]; columns: Map<number, string[]> } {
  let x = 0;
  let y = 0;
  let rowH = 0;
  const panels: Panel[] = [];
  const columns = new Map<number, string[]>();
  specs.forEach((s, i) => {
    const w = s.w ?? 12;
    const h = s.h ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const id = i + 1;
    const type = s.type ?? 'timeseries';
    const format = s.format ?? (type === 'timeseries' ? Format.TIME_SERIES : Format.TABLE);
    const sqls = s.sql === undefined ? [] : Array.isArray(s.sql) ? s.sql : [s.sql];
    const targets: Target[] = s.promql
      ? s.promql.map((p, k) => ({
          refId: String.fromCharCode(65 + k),
          datasource: PROMETHEUS,
          expr: p.expr,
          ...(p.legend ? { legendFormat: p.legend } : {}),
        }))
      : sqls.map((sql, k) => ({
          refId: String.fromCharCode(65 + k),
          datasource: CLICKHOUSE,
          editorType: 'sql' as const,
          queryType: QUERY_TYPE[format] ?? 'table',
          format,
          rawSql: sql.trim().replace(/\n\s*/g, '\n'),
          ...(format === Format.TRACE || format === Format.LOGS ? { meta: { otelEnabled: true } } : {}),
        }));
    panels.push({
      id,
      type,
      title: s.title,
      ...(s.description ? { description: s.description } : {}),
      datasource: s.promql ? PROMETHEUS : CLICKHOUSE,
      gridPos: { x, y, w, h },
      targets,
      fieldConfig: { defaults: { unit: s.unit, ...(s.defaults ?? {}) }, overrides: s.overrides ?? [] },
      ...(s.options ? { options: s.options } : {}),
      ...(s.transformations ? { transformations: s.transformations } : {}),
    });
    columns.set(id, s.columns);
    x += w;
    rowH = Math.max(rowH, h);
  });
  return { panels, columns };
}

export interface QueryVariable {
  name: string;
  label: string;
  /** SQL for the option list */
  query: string;
}

export function queryVariable(v: QueryVariable): Record<string, unknown> {
  return {
    type: 'query',
    name: v.name,
    label: v.label,
    datasource: CLICKHOUSE,
    query: v.query,
    definition: v.query,
    refresh: 2,
    includeAll: true,
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

export function unitOverride(column: string, unit: string, extra: Record<string, unknown>[] = []): unknown {
  return {
    matcher: { id: 'byName', options: column },
    properties: [{ id: 'unit', value: unit }, ...extra],
  };
}

export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: string;
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Record<string, unknown>[] };
  panels: Panel[];
  links?: unknown[];
}

export function dashboard(d: {
  uid: string;
  title: string;
  tags: string[];
  time?: string;
  variables: Record<string, unknown>[];
  panels: Panel[];
}): Dashboard {
  return {
    uid: d.uid,
    title: d.title,
    tags: ['sieve', ...d.tags],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '1m',
    time: { from: d.time ?? 'now-6h', to: 'now' },
    templating: { list: d.variables },
    panels: d.panels,
    links: [
      { type: 'dashboards', tags: ['sieve'], asDropdown: true, title: 'Sieve', includeVars: true, keepTime: true },
    ],
  };
}
