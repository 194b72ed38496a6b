/**
 * `sieve reprice --from <t> --to <t> [--pricing <file>] [--chunk <minutes>]`: recompute stored LLM cost
 * for a past window after pricing.yaml changed (src/loader/reprice.ts), with progress per chunk.
 * Times: ISO 8601 (`2026-11-01`, `2026-11-01T10:00:00Z`), epoch milliseconds, or `now-<n>h|m|d`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clickhouseConfigFromEnv, createClickHouseClient } from '../clickhouse/client.js';
import { loadPricing } from '../loader/pricing.js';
import { reprice } from '../loader/reprice.js';

/** A time argument in ms since epoch. */
export function parseTime(arg: string, now = Date.now()): number {
  const rel = /^now(?:-(\d+)([mhd]))?$/.exec(arg.trim());
  if (rel)
    return now - (rel[1] ? Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'] : 0);
  if (/^\d{12,}$/.test(arg)) return Number(arg);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(arg) ? `${arg}T00:00:00Z` : arg);
  if (!Number.isFinite(ms)) throw new Error(`not a time: "${arg}" (ISO 8601, epoch ms, or now-<n>h)`);
  return ms;
}

/** Spans still arriving would miss the rebuilt rollup: the window must end this long ago. */
const SETTLED_MS = 2 * 60_000;

export async function runReprice(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      pricing: { type: 'string' },
      chunk: { type: 'string' },
    },
    strict: true,
  });
  if (!values.from || !values.to) throw new Error('usage: sieve reprice --from <time> --to <time> [--pricing <file>]');
  const fromMs = parseTime(values.from);
  const toMs = parseTime(values.to);
  if (toMs > Date.now() - SETTLED_MS)
    throw new Error('--to must be at least 2 minutes in the past (the loader may still be writing that window)');
  const pricingFile = resolve(values.pricing ?? process.env.SIEVE_PRICING ?? 'collector-config/pricing.yaml');
  const pricing = loadPricing(pricingFile);
  const chunkMinutes = values.chunk ? Number(values.chunk) : 60;
  if (!Number.isInteger(chunkMinutes) || chunkMinutes <= 0) throw new Error('--chunk is a whole number of minutes');
  const { database } = clickhouseConfigFromEnv();
  const client = createClickHouseClient();
  try {
    out.write(
      `reprice ${database}: ${new Date(fromMs).toISOString()} → ${new Date(toMs).toISOString()} with ${pricingFile}\n`,
    );
    const r = await reprice({
      client,
      database,
      pricing,
      fromMs,
      toMs,
      chunkMs: chunkMinutes * 60_000,
      log: (line) => out.write(`${line}\n`),
    });
    out.write(`reprice done: ${r.spans} priced spans read, ${r.changed} costs changed in ${r.chunks} chunks\n`);
    return 0;
  } finally {
    await client.close();
  }
}
