/** Text of one `sieve stats` screen (pure: snapshot and health in, lines out). */
import { createColors } from 'picocolors';
import { getBorderCharacters, table } from 'table';
import type { StatsSnapshot } from './collect.js';
import type { PipelineHealth } from './ops.js';
import { sparkline } from './sparkline.js';

export interface RenderOptions {
  color: boolean;
  clickhouse: { url: string; database: string };
  /** wall-clock time of the snapshot */
  at: Date;
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatTokens(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  return formatCount(n);
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export const formatPercent = (ratio: number): string => `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.1 ? 1 : 0)}%`;

/** US dollars with a `$`, precise enough to tell small LLM bills apart. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd) || usd === 0) return '$0';
  if (usd < 0.0001) return '<$0.0001';
  if (usd < 1) return `$${usd.toFixed(4)}`;
  return `$${usd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

const rate = (perSecond: number): string =>
  perSecond >= 10 ? perSecond.toFixed(0) : perSecond >= 0.1 ? perSecond.toFixed(1) : perSecond.toFixed(2);

function grid(header: string[], body: string[][], rightAligned: number[], bold: (s: string) => string): string {
  return table([header.map(bold), ...body], {
    border: getBorderCharacters('void'),
    columnDefault: { paddingLeft: 2, paddingRight: 1 },
    columns: Object.fromEntries(rightAligned.map((i) => [i, { alignment: 'right' as const }])),
    drawHorizontalLine: () => false,
  }).trimEnd();
}

export function renderStats(s: StatsSnapshot, health: PipelineHealth, o: RenderOptions): string {
  const c = createColors(o.color);
  const out: string[] = [];
  const title = (t: string, note = '') => out.push('', `${c.bold(c.cyan(t))}${note ? c.dim(`  ${note}`) : ''}`);
  const time = o.at.toISOString().slice(11, 19);
  out.push(
    `${c.bold('Sieve stats')} · last ${s.window.minutes} min · ClickHouse ${o.clickhouse.url} database ${o.clickhouse.database} · ${time} UTC`,
  );

  title('Services', 'spans per service from spans_1m (rate over the window)');
  if (s.services.length === 0) out.push(c.dim('  no spans in this window'));
  else
    out.push(
      grid(
        ['service', 'calls', 'per s', 'error %', 'p50', 'p95', 'p99', 'calls/min'],
        s.services.map((r) => [
          r.service || '(no service.name)',
          formatCount(r.calls),
          rate(r.ratePerSecond),
          r.errorRate > 0.05 ? c.red(formatPercent(r.errorRate)) : formatPercent(r.errorRate),
          formatMs(r.p50Ms),
          formatMs(r.p95Ms),
          formatMs(r.p99Ms),
          c.green(sparkline(r.callsPerMinute)),
        ]),
        [1, 2, 3, 4, 5, 6],
        c.bold,
      ),
    );

  const llmCalls = s.models.reduce((n, m) => n + m.calls, 0);
  const cost = s.costByProvider.reduce((n, p) => n + p.costUsd, 0);
  title(
    'LLM calls',
    'from llm_1m, or AI metrics where an agent sends no spans; cost from the span or collector-config/pricing.yaml',
  );
  if (s.models.length === 0) out.push(c.dim('  no LLM calls in this window'));
  else {
    const t = s.tokens;
    out.push(
      `  ${formatCount(llmCalls)} calls · ${formatTokens(t.input + t.output)} tokens (${formatTokens(t.input)} in, ${formatTokens(t.output)} out` +
        `${t.cacheRead ? `, ${formatTokens(t.cacheRead)} cache read` : ''}${t.reasoning ? `, ${formatTokens(t.reasoning)} reasoning` : ''})` +
        ` · ${c.bold(formatUsd(cost))}   tokens/min ${c.green(sparkline(t.perMinute))}`,
    );
    out.push(
      grid(
        ['provider', 'model', 'calls', 'error %', 'p50', 'p95', 'tokens in', 'tokens out', 'cost'],
        s.models.map((m) => [
          m.provider || '–',
          m.model,
          formatCount(m.calls),
          m.errorRate > 0.05 ? c.red(formatPercent(m.errorRate)) : formatPercent(m.errorRate),
          Number.isNaN(m.p50Ms) ? '–' : formatMs(m.p50Ms),
          Number.isNaN(m.p95Ms) ? '–' : formatMs(m.p95Ms),
          formatTokens(m.inputTokens),
          formatTokens(m.outputTokens),
          formatUsd(m.costUsd),
        ]),
        [2, 3, 4, 5, 6, 7, 8],
        c.bold,
      ),
    );
    const list = (items: { name: string; costUsd: number }[]) =>
      items.map((i) => `${i.name || '(none)'} ${formatUsd(i.costUsd)}`).join(' · ');
    out.push(`  cost by provider: ${list(s.costByProvider.map((p) => ({ name: p.provider, costUsd: p.costUsd })))}`);
    out.push(`  cost by tenant:   ${list(s.costByTenant.map((p) => ({ name: p.tenant, costUsd: p.costUsd })))}`);
  }

  if (s.tools.length > 0) {
    title('Tool calls', 'spans with gen_ai.operation.name = execute_tool, most failures first');
    out.push(
      grid(
        ['tool', 'calls', 'failed', 'failed %', 'p95'],
        s.tools.map((t) => [
          t.tool || '(unnamed)',
          formatCount(t.calls),
          formatCount(t.errors),
          t.errorRate > 0.05 ? c.red(formatPercent(t.errorRate)) : formatPercent(t.errorRate),
          formatMs(t.p95Ms),
        ]),
        [1, 2, 3, 4],
        c.bold,
      ),
    );
  }

  title('Logs', 'records by severity from logs_1m');
  if (s.logs.length === 0) out.push(c.dim('  no log records in this window'));
  else
    out.push(
      grid(
        ['severity', 'records', 'per min'],
        s.logs.map((l) => [l.severity || '(unset)', formatCount(l.count), c.green(sparkline(l.perMinute))]),
        [1],
        c.bold,
      ),
    );

  out.push(...renderHealth(health, c));
  return `${out.join('\n')}\n`;
}

type Colors = ReturnType<typeof createColors>;

export function renderHealth(h: PipelineHealth, c: Colors): string[] {
  const out = [
    '',
    `${c.bold(c.cyan('Pipeline'))}${c.dim('  from the ops endpoints; counts since each process started')}`,
  ];
  const state = (reachable: boolean, ready: boolean) =>
    !reachable ? c.yellow('not reachable') : ready ? c.green('ready') : c.red('not ready');
  const r = h.receiver;
  const l = h.loader;
  out.push(
    `  receiver  ${r.url}  ${state(r.reachable, r.ready)}` +
      (r.reachable
        ? ` · accepted ${formatCount(r.accepted.traces)} spans, ${formatCount(r.accepted.logs)} log records, ${formatCount(r.accepted.metrics)} metric points` +
          ` · refused ${formatCount(r.refused)} · rejected ${formatCount(r.rejected)}`
        : ''),
  );
  out.push(
    `  loader    ${l.url}  ${state(l.reachable, l.ready)}` +
      (l.reachable
        ? ` · lag ${formatCount(l.lag)} messages · ${formatCount(l.rowsInserted)} rows inserted · DLQ ${l.dlqMessages > 0 ? c.red(formatCount(l.dlqMessages)) : '0'}` +
          (l.insertRetries > 0 ? ` · ${formatCount(l.insertRetries)} insert retries` : '')
        : ''),
  );
  if (l.reachable && l.dlqMessages > 0)
    out.push(
      c.dim(
        `  ${formatCount(l.dlqMessages)} went to the DLQ: \`sieve dlq\` says why; \`sieve dlq replay\` loads them again once that is fixed`,
      ),
    );
  return out;
}
