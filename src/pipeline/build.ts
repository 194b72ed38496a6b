/** Composes the configured processors of one `service.pipelines` entry into a SignalPipeline. */
import type { RequestBySignal, Signal } from '../otlp/model.js';
import type {
  BatchSettings,
  KafkaExporterSettings,
  MemoryLimiterSettings,
  Processor,
  ProcessResult,
  SignalPipeline,
} from './api.js';

export interface PipelineParts<S extends Signal> {
  signal: S;
  id: string;
  /** processor ids in YAML order, including batch and memory_limiter */
  processorIds: string[];
  /** transforming processors, in order */
  processors: Processor[];
  batch?: BatchSettings | undefined;
  memoryLimiter?: MemoryLimiterSettings | undefined;
  exporter: KafkaExporterSettings;
}

type Fn<S extends Signal> = (r: RequestBySignal[S]) => RequestBySignal[S];

export function buildSignalPipeline<S extends Signal>(parts: PipelineParts<S>): SignalPipeline<S> {
  const steps: { fn: Fn<S>; p: Processor }[] = [];
  for (const p of parts.processors) {
    const fn = p[parts.signal] as Fn<S> | undefined;
    if (fn) steps.push({ fn: fn.bind(p) as Fn<S>, p });
  }
  const process = (request: RequestBySignal[S]): ProcessResult<S> => {
    let r = request;
    let droppedItems = 0;
    for (const { fn, p } of steps) {
      r = fn(r);
      const d = (p as { lastDropped?: number }).lastDropped;
      if (d) droppedItems += d;
    }
    return { request: r, droppedItems };
  };
  const pipeline: SignalPipeline<S> = {
    signal: parts.signal,
    id: parts.id,
    processorIds: parts.processorIds,
    process,
    passThrough: steps.length === 0,
    exporter: parts.exporter,
    ...(parts.batch ? { batch: parts.batch } : {}),
    ...(parts.memoryLimiter ? { memoryLimiter: parts.memoryLimiter } : {}),
  };
  return pipeline;
}
