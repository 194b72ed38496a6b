/**
 * The start banner of `sieve all|receiver|loader` in the human log format: where to send data, where
 * the ops endpoints are, which pipeline file and processors run, the Kafka and ClickHouse targets,
 * and what dev mode means. Endpoints come from the loaded config, so new receivers show up here.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { createColors } from 'picocolors';
import type { OtlpReceiverSettings, SieveConfig } from '../pipeline/api.js';
import type { DevHashKey } from './dev-key.js';

export interface BannerInfo {
  command: 'all' | 'receiver' | 'loader';
  config: SieveConfig;
  configPath: string;
  /** the OTLP receivers (none for `sieve loader`) */
  endpoints: { protocol: string; url: string }[];
  ops: { name: string; url: string }[];
  kafkaBrokers: string[];
  /** for commands that run the loader */
  clickhouse?: { url: string; database: string };
  dev: boolean;
  devKey?: DevHashKey;
  workers?: number;
}

/** The OTLP endpoints a receiver serves, from its settings. */
export function receiverEndpoints(settings: OtlpReceiverSettings): { protocol: string; url: string }[] {
  const url = (host: string, port: number, tls: boolean) =>
    `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const endpoints = [{ protocol: 'OTLP/HTTP', url: url(settings.host, settings.port, settings.tls !== undefined) }];
  const g = settings.grpc;
  if (g !== undefined) endpoints.push({ protocol: 'OTLP/gRPC', url: url(g.host, g.port, g.tls !== undefined) });
  return endpoints;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '';
  } catch {
    return '';
  }
}

const loopback = (url: string) => url.replace('//0.0.0.0:', '//127.0.0.1:');

export function renderBanner(b: BannerInfo, color: boolean): string {
  const c = createColors(color);
  const rows: [string, string][] = [];
  const what = { all: 'receiver + loader', receiver: 'receiver', loader: 'loader' }[b.command];
  for (const e of b.endpoints)
    rows.push([e.protocol, `${e.url}${e.url.includes('0.0.0.0') ? c.dim(` (all interfaces)`) : ''}`]);
  if (b.endpoints.length > 0 && b.command !== 'loader')
    rows.push(['send with', c.bold(`OTEL_EXPORTER_OTLP_ENDPOINT=${loopback(b.endpoints[0]?.url ?? '')}`)]);
  rows.push(['ops', b.ops.map((o) => `${o.name} ${o.url}`).join(c.dim(' · '))]);
  const path = relative(process.cwd(), b.configPath);
  rows.push(['pipeline', path.startsWith('..') ? b.configPath : path]);
  const topics: string[] = [];
  for (const p of Object.values(b.config.pipelines)) {
    if (p === undefined) continue;
    topics.push(p.exporter.topic);
    if (b.command !== 'loader') {
      const processors = p.processorIds.length > 0 ? p.processorIds.join(', ') : c.dim('none');
      rows.push([`  ${p.id}`, processors]);
    }
  }
  rows.push(['Kafka', `${b.kafkaBrokers.join(',')} ${c.dim('→')} ${topics.join(', ')}`]);
  if (b.clickhouse) rows.push(['ClickHouse', `${b.clickhouse.url} ${c.dim('database')} ${b.clickhouse.database}`]);
  if (b.command !== 'loader') {
    rows.push([
      'auth',
      b.config.receiver.auth
        ? `API keys (${b.config.receiver.auth.keys.length})`
        : c.yellow('dev mode: no API keys, every request is accepted'),
    ]);
  }
  if (b.devKey)
    rows.push([
      'hash key',
      c.yellow(
        `dev mode: ${b.devKey.generated ? 'generated a local PII hashing key in' : 'local PII hashing key from'} ${b.devKey.file}` +
          ' (set SIEVE_HASH_KEY or SIEVE_HASH_KEY_FILE in production)',
      ),
    ]);
  if (b.workers && b.workers > 1) rows.push(['workers', `${b.workers} receiver processes share the port`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  const v = version();
  return `${[
    `${c.bold(c.cyan('Sieve'))}${v ? ` ${v}` : ''} · sieve ${b.command} (${what})`,
    ...rows.map(([k, val]) => `  ${c.dim(k.padEnd(width))}  ${val}`),
  ].join('\n')}\n`;
}
