/**
 * Why `sieve stats` has nothing to show: plain sentences from what it could check — the database
 * and its tables, the newest data in the rollups, and the receiver's and loader's ops endpoints.
 */
import type { SchemaCheck } from './collect.js';
import type { PipelineHealth } from './ops.js';
import type { StatsWindow } from './scope.js';

export interface NoDataFacts {
  clickhouse: { url: string; database: string };
  schema: SchemaCheck;
  /** unix seconds of the newest rollup minute, 0 when the rollups are empty */
  newestMinute: number;
  window: StatsWindow;
  health: PipelineHealth;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

function ago(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} days ago`;
}

/** The reasons, most fundamental first; each is one sentence with what to do about it. */
export function explainNoData(f: NoDataFacts): string[] {
  const { url, database } = f.clickhouse;
  const { receiver, loader } = f.health;
  if (!f.schema.databaseExists)
    return [
      `ClickHouse at ${url} has no database "${database}". Wrong database? Sieve writes to CLICKHOUSE_DATABASE (default otel). ` +
        'Or Sieve has not started against this ClickHouse yet: `sieve all` and `sieve loader` create it (`sieve migrate` alone does too).',
    ];
  if (f.schema.missingTables.length > 0)
    return [
      `Database "${database}" at ${url} has no ${f.schema.missingTables.join(', ')}: the migrations have not run there. ` +
        'Run `npx sieve migrate` (with the same CLICKHOUSE_URL / CLICKHOUSE_DATABASE), or start `sieve all` / `sieve loader`, which apply them.',
    ];
  const reasons: string[] = [];
  const accepted = receiver.accepted.traces + receiver.accepted.logs + receiver.accepted.metrics;
  if (f.newestMinute > 0 && f.newestMinute < f.window.from) {
    const newest = new Date(f.newestMinute * 1000).toISOString().slice(0, 16).replace('T', ' ');
    const minutes = Math.ceil((f.window.to - f.newestMinute) / 60) + 1;
    reasons.push(
      `The newest data in "${database}" is from ${newest} UTC (${ago(f.window.to - f.newestMinute)}), before this window: try \`--minutes ${minutes}\`.`,
    );
  }
  if (!receiver.reachable && !loader.reachable) {
    reasons.push(
      `No Sieve answers at ${receiver.url} (receiver) or ${loader.url} (loader): start it with \`npm run up\` ` +
        '(or point --receiver-ops / --loader-ops at where it runs).',
    );
  } else if (receiver.reachable && accepted === 0) {
    reasons.push(
      `Nothing sent yet: the receiver at ${receiver.url} has accepted no data since it started. Send some with \`npx sieve demo\`.`,
    );
  } else if (!receiver.reachable) {
    reasons.push(`No receiver answers at ${receiver.url}; it may run elsewhere (--receiver-ops <url>).`);
  }
  if (receiver.reachable && !receiver.ready)
    reasons.push(`The receiver is not ready (${receiver.url}/readyz): it cannot reach Kafka, so it refuses data.`);
  if (loader.reachable) {
    if (!loader.ready)
      reasons.push(
        `The loader is not ready (${loader.url}/readyz): its ClickHouse inserts are failing and being retried.`,
      );
    if (loader.lag > 0)
      reasons.push(`The loader is behind: ${count(loader.lag)} Kafka messages are not in ClickHouse yet.`);
  } else if (receiver.reachable) {
    reasons.push(
      `No loader answers at ${loader.url}: accepted data waits in Kafka until \`sieve loader\` (or \`sieve all\`) runs.`,
    );
  }
  if (reasons.length === 0 && accepted > 0)
    reasons.push(
      `The receiver has accepted ${count(accepted)} items and the loader is running: they reach the rollups within seconds; run again (or use --watch).`,
    );
  if (reasons.length === 0) reasons.push(`The rollups in "${database}" at ${url} are empty.`);
  return reasons;
}
