/** Collector `memory_limiter` processor → limits on bytes in flight in the receiver. */
import type { MemoryLimiterSettings } from './api.js';
import { parseDurationMs } from './duration.js';

export interface MemoryLimiterConfig {
  check_interval?: string | number | undefined;
  limit_mib?: number | undefined;
  spike_limit_mib?: number | undefined;
  limit_percentage?: number | undefined;
  spike_limit_percentage?: number | undefined;
}

const MiB = 1024 * 1024;

export function memoryLimiterSettings(cfg: MemoryLimiterConfig, totalMemoryBytes?: number): MemoryLimiterSettings {
  let limit: number;
  let spike: number;
  if (cfg.limit_mib != null) {
    limit = cfg.limit_mib * MiB;
    spike = cfg.spike_limit_mib != null ? cfg.spike_limit_mib * MiB : Math.floor(limit / 5);
  } else if (cfg.limit_percentage != null) {
    const total = totalMemoryBytes ?? 1024 * MiB;
    limit = Math.floor((total * cfg.limit_percentage) / 100);
    spike = Math.floor((total * (cfg.spike_limit_percentage ?? cfg.limit_percentage / 5)) / 100);
  } else throw new Error('memory_limiter needs limit_mib or limit_percentage');
  if (spike >= limit) throw new Error('spike_limit_mib must be lower than limit_mib');
  return {
    limitBytes: limit,
    spikeLimitBytes: spike,
    checkIntervalMs: parseDurationMs(cfg.check_interval ?? '1s'),
  };
}
