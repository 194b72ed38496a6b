/** Collector `resource` processor: the attributes actions applied to resource attributes of every signal. */
import type { KeyValue, RequestBySignal, Resource } from '../otlp/model.js';
import type { Processor } from './api.js';
import { type ActionConfig, actionsExplain, applyActions, compileActions } from './attributes.js';
import type { ExplainSink } from './explain.js';
import type { HashSettings } from './hash.js';

export interface ResourceConfig extends HashSettings {
  attributes: ActionConfig[];
}

export function createResourceProcessor(
  id: string,
  cfg: ResourceConfig,
  env?: NodeJS.ProcessEnv,
  explain?: ExplainSink,
): Processor {
  const actions = compileActions({ ...cfg, actions: cfg.attributes }, env, actionsExplain(id, 'attributes', explain));
  const apply = (holder: { resource?: Resource | null }, where: string | undefined) => {
    holder.resource ??= {};
    holder.resource.attributes ??= [];
    applyActions(actions, holder.resource.attributes as KeyValue[], where);
  };
  const where = (list: string, i: number) => (explain ? `${list}[${i}].resource.attributes` : undefined);
  return {
    id,
    traces(req: RequestBySignal['traces']) {
      (req.resourceSpans ?? []).forEach((r, i) => {
        apply(r, where('resourceSpans', i));
      });
      return req;
    },
    logs(req: RequestBySignal['logs']) {
      (req.resourceLogs ?? []).forEach((r, i) => {
        apply(r, where('resourceLogs', i));
      });
      return req;
    },
    metrics(req: RequestBySignal['metrics']) {
      (req.resourceMetrics ?? []).forEach((r, i) => {
        apply(r, where('resourceMetrics', i));
      });
      return req;
    },
  };
}
