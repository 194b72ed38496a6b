/** Collector `batch` processor → BatchSettings (the Kafka exporter does the batching). */
import type { BatchSettings } from './api.js';
import { parseDurationMs } from './duration.js';

export interface BatchConfig {
  send_batch_size?: number | undefined;
  send_batch_max_size?: number | undefined;
  timeout?: string | number | undefined;
}

export function batchSettings(cfg: BatchConfig): BatchSettings {
  const size = cfg.send_batch_size ?? 8192;
  const max = cfg.send_batch_max_size ?? 0;
  if (max !== 0 && max < size) throw new Error('send_batch_max_size must be 0 or >= send_batch_size');
  return {
    sendBatchSize: size,
    sendBatchMaxSize: max,
    timeoutMs: parseDurationMs(cfg.timeout ?? '200ms'),
  };
}
