/**
 * `sieve stats [--minutes N] [--watch]`: the last N minutes of the rollups in the terminal — services,
 * LLM calls and cost, tool calls, logs — with the dashboards' SQL, plus the pipeline's health from
 * the ops endpoints. With no data it says why (exit 0); ClickHouse unreachable is an error (exit 1).
 */
import { parseArgs } from 'node:util';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { createColors } from 'picocolors';
import { clickhouseConfigFromEnv } from '../clickhouse/client.js';
import { checkSchema, collectStats, isEmpty, newestMinute } from '../stats/collect.js';
import { explainNoData } from '../stats/diagnose.js';
import { readPipelineHealth } from '../stats/ops.js';
import { renderHealth, renderStats } from '../stats/render.js';
import { statsWindow } from '../stats/scope.js';
import { wholeNumber } from './env-number.js';

export const STATS_USAGE = `usage: sieve stats [--minutes N] [--watch [--interval S]] [--receiver-ops URL] [--loader-ops URL]
  --minutes N         how far back to look (default 10, at most 1440)
  --watch             redraw every --interval seconds (default 5) until Ctrl-C
  --receiver-ops URL  the receiver's ops endpoint (default http://127.0.0.1:$SIEVE_RECEIVER_OPS_PORT, 13133)
  --loader-ops URL    the loader's ops endpoint (default http://127.0.0.1:$SIEVE_LOADER_OPS_PORT, 13134)
env: CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER, CLICKHOUSE_PASSWORD
`;

interface StatsOptions {
  minutes: number;
  watch: boolean;
  intervalSeconds: number;
  receiverOps: string;
  loaderOps: string;
}

export function parseStatsArgs(args: string[], env: NodeJS.ProcessEnv = process.env): StatsOptions | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: 'string' },
      watch: { type: 'boolean', default: false },
      interval: { type: 'string' },
      'receiver-ops': { type: 'string' },
      'loader-ops': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    minutes: wholeNumber('--minutes', values.minutes, 10, { min: 1, max: 1440 }),
    watch: values.watch ?? false,
    intervalSeconds: wholeNumber('--interval', values.interval, 5, { min: 1, max: 3600 }),
    receiverOps: (values['receiver-ops'] ?? `http://127.0.0.1:${env.SIEVE_RECEIVER_OPS_PORT ?? 13133}`).replace(
      /\/$/,
      '',
    ),
    loaderOps: (values['loader-ops'] ?? `http://127.0.0.1:${env.SIEVE_LOADER_OPS_PORT ?? 13134}`).replace(/\/$/, ''),
  };
}

function client(database?: string): ClickHouseClient {
  const c = clickhouseConfigFromEnv();
  return createClient({
    url: c.url,
    username: c.username,
    password: c.password,
    ...(database ? { database } : {}),
    request_timeout: 30_000,
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** One screen: the stats, or why there are none. Throws when ClickHouse cannot be reached. */
async function screen(o: StatsOptions, admin: ClickHouseClient, db: ClickHouseClient, color: boolean): Promise<string> {
  const { url, database } = clickhouseConfigFromEnv();
  const at = new Date();
  const window = statsWindow(o.minutes, at.getTime());
  const healthP = readPipelineHealth({ receiver: o.receiverOps, loader: o.loaderOps });
  const schema = await checkSchema(admin, database).catch((err: Error) => {
    throw new Error(
      `cannot reach ClickHouse at ${url}: ${err.message}. Is it running? (\`npm run up\` starts it; set CLICKHOUSE_URL if it runs elsewhere)`,
    );
  });
  const schemaOk = schema.databaseExists && schema.missingTables.length === 0;
  const snapshot = schemaOk ? await collectStats(db, window) : undefined;
  const health = await healthP;
  if (snapshot && !isEmpty(snapshot))
    return renderStats(snapshot, health, { color, clickhouse: { url, database }, at });
  const c = createColors(color);
  const reasons = explainNoData({
    clickhouse: { url, database },
    schema,
    newestMinute: schemaOk ? await newestMinute(db) : 0,
    window,
    health,
  });
  return `${[
    `${c.bold('Sieve stats')} · last ${o.minutes} min · ClickHouse ${url} database ${database}`,
    '',
    c.yellow('No data yet.'),
    ...reasons.map((r) => `  • ${r}`),
    ...renderHealth(health, c),
  ].join('\n')}\n`;
}

export async function runStats(args: string[], out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const o = parseStatsArgs(args);
  if (o === 'help') {
    out.write(STATS_USAGE);
    return 0;
  }
  const color = out.isTTY === true && !process.env.NO_COLOR;
  const { database } = clickhouseConfigFromEnv();
  const admin = client();
  const db = client(database);
  try {
    if (!o.watch) {
      out.write(await screen(o, admin, db, color));
      return 0;
    }
    let stop = false;
    let wake = () => {};
    process.once('SIGINT', () => {
      stop = true;
      wake();
    });
    while (!stop) {
      const text = await screen(o, admin, db, color).catch((err: Error) => `sieve stats: ${err.message}\n`);
      out.write(out.isTTY ? `\x1b[2J\x1b[H${text}` : `${text}\n`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, o.intervalSeconds * 1000);
      });
    }
    return 0;
  } finally {
    await Promise.all([admin.close(), db.close()]);
  }
}
