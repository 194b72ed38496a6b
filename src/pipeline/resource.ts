/** Collector `resource` processor: the attributes actions applied to resource attributes of every signal. */
import type { KeyValue, RequestBySignal, Resource } from '../otlp/model.js';
import type { Processor } from './api.js';
import { type ActionConfig, applyActions, compileActions } from './attributes.js';
import type { HashSettings } from './hash.js';

export interface ResourceConfig extends HashSettings {
  attributes: ActionConfig[];
}

export function createResourceProcessor(id: string, cfg: ResourceConfig, env?: NodeJS.ProcessEnv): Processor {
  const actions = compileActions({ ...cfg, actions: cfg.attributes }, env);
  const apply = (holder: { resource?: Resource | null }) => {
    holder.resource ??= {};
    holder.resource.attributes ??= [];
    applyActions(actions, holder.resource.attributes as KeyValue[]);
  };
  return {
    id,
    traces(req: RequestBySignal['traces']) {
      for (const r of req.resourceSpans ?? []) apply(r);
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      for (const r of req.resourceLogs ?? []) apply(r);
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      for (const r of req.resourceMetrics ?? []) apply(r);
      return req;
    },
  };
}
