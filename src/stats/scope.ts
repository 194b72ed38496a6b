/**
 * The scope `sieve stats` gives the shared rollup queries (src/grafana/queries.ts): the last N whole
 * minutes up to now, every tenant, service, environment and model — what the dashboards show with
 * their variables on All. Time values are unix seconds (integers), so the SQL needs no quoting.
 */
import type { QueryScope } from '../grafana/queries.js';

export interface StatsWindow {
  /** unix seconds of the first minute in the window */
  from: number;
  /** unix seconds of now (the last minute is partial) */
  to: number;
  minutes: number;
}

export function statsWindow(minutes: number, nowMs: number): StatsWindow {
  const to = Math.floor(nowMs / 1000);
  const from = Math.floor(to / 60) * 60 - (minutes - 1) * 60;
  return { from, to, minutes };
}

/** Minute starts of the window, oldest first: the x axis of the sparklines. */
export function windowMinutes(w: StatsWindow): number[] {
  return Array.from({ length: w.minutes }, (_, i) => w.from + i * 60);
}

const EVERYTHING = { tenant: '1=1', service: '1=1', environment: '1=1', model: '1=1' };

const timeFilter =
  (w: StatsWindow) =>
  (column: string): string =>
    `${column} >= toDateTime(${w.from}) AND ${column} <= toDateTime(${w.to})`;

/** One bucket per minute (as the dashboards' $__timeInterval at a 1-minute interval). */
export function perMinuteScope(w: StatsWindow): QueryScope {
  return {
    timeFilter: timeFilter(w),
    timeBucket: (column) => `toStartOfInterval(toDateTime(${column}), INTERVAL 60 second)`,
    intervalSeconds: '60',
    fromTime: `toDateTime(${w.from})`,
    toTime: `toDateTime(${w.to})`,
    ...EVERYTHING,
  };
}

/** One bucket for the whole window: totals, rates over the window, percentiles of the window. */
export function wholeWindowScope(w: StatsWindow): QueryScope {
  return {
    timeFilter: timeFilter(w),
    timeBucket: () => `toDateTime(${w.from})`,
    intervalSeconds: String(Math.max(1, w.to - w.from)),
    fromTime: `toDateTime(${w.from})`,
    toTime: `toDateTime(${w.to})`,
    ...EVERYTHING,
  };
}
