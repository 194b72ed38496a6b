import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';

export interface ClickHouseEnvConfig {
  url: string;
  database: string;
  username: string;
  password: string;
}

/** ClickHouse connection settings from CLICKHOUSE_URL / CLICKHOUSE_DATABASE / CLICKHOUSE_USER / CLICKHOUSE_PASSWORD. */
export function clickhouseConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClickHouseEnvConfig {
  return {
    url: env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    database: env.CLICKHOUSE_DATABASE ?? 'otel',
    username: env.CLICKHOUSE_USER ?? 'default',
    password: env.CLICKHOUSE_PASSWORD ?? '',
  };
}

/**
 * A client without a default database (queries name the database explicitly). The client's own
 * console logger is off: callers report failures through pino with their context (table, retry).
 */
export function createClickHouseClient(cfg: Partial<ClickHouseEnvConfig> = {}): ClickHouseClient {
  const c = { ...clickhouseConfigFromEnv(), ...cfg };
  return createClient({
    url: c.url,
    username: c.username,
    password: c.password,
    request_timeout: 60_000,
    log: { level: ClickHouseLogLevel.OFF },
  });
}
