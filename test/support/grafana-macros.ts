// Expands a ClickHouse panel query the way Grafana + grafana/clickhouse-datasource do before it
// reaches ClickHouse, so tests can run dashboard SQL verbatim:
//  1. frontend (CHDatasource.applyTemplateVariables): `$__conditionalAll(cond, $var)` → `1=1` when the
//     variable is All ('$__all') or empty, else `cond`; then Grafana's templateSrv.replace for `$var`,
//     `${var}`, `${var:format}` (singlequote, doublequote, csv, pipe, raw, sqlstring, text; multi-values
//     without a format use the glob format `{a,b}`); All expands to the custom all value, else every option.
//  2. backend (pkg/macros/macros.go, through sqlds): $__timeFilter(col), $__timeFilter_ms(col),
//     $__dateFilter(col), $__dateTimeFilter(date, time) / $__dt, $__fromTime, $__toTime, $__fromTime_ms,
//     $__toTime_ms, $__timeInterval(col), $__timeInterval_ms(col), $__interval_s.

export const ALL = '$__all';

export interface TemplateVariable {
  /** selected value(s); ALL for "All" */
  value: string | string[];
  /** every option of the variable (what All expands to without a custom all value) */
  options?: string[];
  /** the variable's custom all value, inserted raw */
  allValue?: string;
}

export interface MacroContext {
  from: Date | number;
  to: Date | number;
  /** Grafana's computed interval for the panel, in ms */
  intervalMs: number;
  vars?: Record<string, TemplateVariable | string | string[]>;
}

const asMs = (t: Date | number): number => (typeof t === 'number' ? t : t.getTime());

function normalise(v: TemplateVariable | string | string[]): TemplateVariable {
  return typeof v === 'string' || Array.isArray(v) ? { value: v } : v;
}

/** Arguments of a call whose opening parenthesis is at `open`; splits on top-level commas. */
function macroArgs(sql: string, open: number): { args: string[]; end: number } | undefined {
  let depth = 0;
  let current = '';
  const args: string[] = [];
  for (let i = open; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === '(') {
      depth++;
      if (depth === 1) continue;
    } else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(current);
        return { args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  return undefined;
}

/** The plugin's applyConditionalAll: innermost-last, replaces right to left. */
export function applyConditionalAll(sql: string, vars: Record<string, TemplateVariable>): string {
  const macro = '$__conditionalAll(';
  let idx = sql.lastIndexOf(macro);
  while (idx !== -1) {
    const parsed = macroArgs(sql, idx + macro.length - 1);
    if (parsed?.args.length !== 2) return sql;
    const [cond, varParam] = parsed.args as [string, string];
    const m = /(?<=\$\{)[\w\d]+(?=[}:])|(?<=\$)[\w\d]+/.exec(varParam.trim());
    let phrase = cond;
    if (m) {
      const v = vars[m[0]];
      const value = v === undefined ? '' : Array.isArray(v.value) ? v.value.join(',') : v.value;
      if (value === '' || value === ALL || (Array.isArray(v?.value) && v.value.includes(ALL))) phrase = '1=1';
    }
    sql = sql.slice(0, idx) + phrase + sql.slice(parsed.end);
    idx = sql.lastIndexOf(macro);
  }
  return sql;
}

function formatValue(values: string[], format: string | undefined, multi: boolean): string {
  switch (format) {
    case 'singlequote':
      return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return values.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'sqlstring':
      return values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'csv':
    case 'text':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    case 'raw':
      return values.join(',');
    case undefined:
      if (multi && values.length > 1) return `{${values.join(',')}}`;
      return values.join(',');
    default:
      throw new Error(`unsupported variable format '${format}'`);
  }
}

/** Grafana templateSrv.replace for $var, ${var}, ${var:format}, [[var]]. Unknown names stay as written. */
export function replaceTemplateVariables(sql: string, vars: Record<string, TemplateVariable>): string {
  return sql.replace(
    /\$(\w+)|\[\[(\w+)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:}]+))?(?::([^}]+))?\}/g,
    (whole, bare, br, brFmt, braced, _path, fmt) => {
      const name = (bare ?? br ?? braced) as string;
      const format = (brFmt ?? fmt) as string | undefined;
      const v = vars[name];
      if (!v) return whole;
      if (v.value === ALL || (Array.isArray(v.value) && v.value.includes(ALL))) {
        if (v.allValue !== undefined) return v.allValue;
        return formatValue(v.options ?? [], format, true);
      }
      const values = Array.isArray(v.value) ? v.value : [v.value];
      return formatValue(values, format, Array.isArray(v.value));
    },
  );
}

const toDate = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
const toDateTime = (ms: number) => `toDateTime(${Math.floor(ms / 1000)})`;
const toDateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;

/** Backend macros, as pkg/macros/macros.go. */
export function expandBackendMacros(sql: string, from: number, to: number, intervalMs: number): string {
  const seconds = Math.max(Math.floor(intervalMs / 1000), 1);
  const millis = Math.max(Math.floor(intervalMs), 1);
  const need = (name: string, args: string[], n: number) => {
    if (args.length !== n) throw new Error(`$__${name}: expected ${n} argument(s), received ${args.length}`);
  };
  const fns: Record<string, (args: string[]) => string> = {
    fromTime: () => toDateTime(from),
    toTime: () => toDateTime(to),
    fromTime_ms: () => toDateTime64(from),
    toTime_ms: () => toDateTime64(to),
    timeFilter: (a) => (need('timeFilter', a, 1), `${a[0]} >= ${toDateTime(from)} AND ${a[0]} <= ${toDateTime(to)}`),
    timeFilter_ms: (a) => (
      need('timeFilter_ms', a, 1), `${a[0]} >= ${toDateTime64(from)} AND ${a[0]} <= ${toDateTime64(to)}`
    ),
    dateFilter: (a) => (need('dateFilter', a, 1), `${a[0]} >= ${toDate(from)} AND ${a[0]} <= ${toDate(to)}`),
    dateTimeFilter: (a) => (
      need('dateTimeFilter', a, 2),
      `(${a[0]} >= ${toDate(from)} AND ${a[0]} <= ${toDate(to)}) AND (${a[1]} >= ${toDateTime(from)} AND ${a[1]} <= ${toDateTime(to)})`
    ),
    timeInterval: (a) => (
      need('timeInterval', a, 1), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${seconds} second)`
    ),
    timeInterval_ms: (a) => (
      need('timeInterval_ms', a, 1), `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${millis} millisecond)`
    ),
    interval_s: () => String(seconds),
  };
  fns.dt = fns.dateTimeFilter as (args: string[]) => string;
  let out = '';
  let i = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const name = m[1] as string;
    const fn = fns[name];
    if (!fn) continue;
    out += sql.slice(i, m.index);
    let end = m.index + m[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      const parsed = macroArgs(sql, end);
      if (!parsed) throw new Error(`$__${name}: unbalanced parentheses`);
      args = parsed.args.map((s) => s.trim()).filter((s, k, all) => !(all.length === 1 && s === '' && k === 0));
      end = parsed.end;
    }
    out += fn(args);
    i = end;
    re.lastIndex = end;
  }
  return out + sql.slice(i);
}

/** Frontend variable interpolation, then backend macros: the SQL ClickHouse receives. */
export function expandGrafanaMacros(sql: string, ctx: MacroContext): string {
  const vars: Record<string, TemplateVariable> = {};
  for (const [k, v] of Object.entries(ctx.vars ?? {})) vars[k] = normalise(v);
  const from = asMs(ctx.from);
  const to = asMs(ctx.to);
  // Grafana's global variables, resolved by templateSrv
  vars.__from ??= { value: String(from) };
  vars.__to ??= { value: String(to) };
  vars.__interval_ms ??= { value: String(ctx.intervalMs) };
  let out = applyConditionalAll(sql, vars);
  out = replaceTemplateVariables(out, vars);
  return expandBackendMacros(out, from, to, ctx.intervalMs);
}
