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

/**
 * Why a new request must be refused, or null to accept it. Two checks, both against the pipeline's
 * memory_limiter:
 * - memory in use (V8 heap + buffers, sampled every check_interval) at or above the soft limit
 *   `limit − spike`, as the Collector's memory_limiter does with the Go heap: new data waits until the
 *   garbage collector brings it back down;
 * - request bytes already in flight plus the incoming body above `limit`: a burst of large bodies
 *   arriving within one check interval cannot overshoot.
 */
export function memoryRefusal(
  settings: MemoryLimiterSettings,
  memoryInUseBytes: number,
  inflightBytes: number,
  incomingBytes: number,
): string | null {
  const soft = settings.limitBytes - settings.spikeLimitBytes;
  if (memoryInUseBytes >= soft)
    return `memory limit reached: ${mib(memoryInUseBytes)} MiB in use, soft limit ${mib(soft)} MiB (limit_mib - spike_limit_mib)`;
  if (inflightBytes + incomingBytes > settings.limitBytes)
    return `memory limit reached: ${mib(inflightBytes)} MiB of requests in flight, limit ${mib(settings.limitBytes)} MiB`;
  return null;
}

const mib = (bytes: number) => (bytes / MiB).toFixed(0);
