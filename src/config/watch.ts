/**
 * Hot reload: watches the config file's directory (survives editors' rename-replace), debounces,
 * validates the new file, and swaps only when valid. `reload()` is for the caller's SIGHUP handler.
 * Reloads are counted in prom-client `sieve_config_reload_total{result="success"|"failure"}`.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Counter, register as defaultRegistry, type Registry } from 'prom-client';
import type { SieveConfig } from '../pipeline/api.js';
import { type LoadOptions, loadSieveConfig } from './load.js';

/** Holds the running config; a request takes `current()` once at its start and uses that snapshot. */
export class ConfigHolder {
  #cfg: SieveConfig;
  #generation = 0;
  constructor(initial: SieveConfig) {
    this.#cfg = initial;
  }
  current(): SieveConfig {
    return this.#cfg;
  }
  get generation(): number {
    return this.#generation;
  }
  swap(next: SieveConfig): void {
    this.#cfg = next;
    this.#generation++;
  }
}

const counters = new WeakMap<Registry, Counter<'result'>>();
export function reloadCounter(registry: Registry = defaultRegistry): Counter<'result'> {
  let c = counters.get(registry);
  if (!c) {
    const existing = registry.getSingleMetric('sieve_config_reload_total') as Counter<'result'> | undefined;
    c =
      existing ??
      new Counter({
        name: 'sieve_config_reload_total',
        help: 'Config reloads by result',
        labelNames: ['result'],
        registers: [registry],
      });
    counters.set(registry, c);
  }
  return c;
}

export interface WatchOptions extends LoadOptions {
  onReload(cfg: SieveConfig): void;
  onError(err: Error): void;
  debounceMs?: number;
  registry?: Registry;
  holder?: ConfigHolder;
}

export interface ConfigWatcher {
  reload(): boolean;
  close(): void;
}

export function watchConfig(path: string, opts: WatchOptions): ConfigWatcher {
  const file = resolve(path);
  const counter = reloadCounter(opts.registry);
  const reload = (): boolean => {
    try {
      const cfg = loadSieveConfig(file, opts);
      opts.holder?.swap(cfg);
      counter.inc({ result: 'success' });
      opts.onReload(cfg);
      return true;
    } catch (err) {
      counter.inc({ result: 'failure' });
      opts.onError(err as Error);
      return false;
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, (_ev, name) => {
      if (name != null && name.toString() !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(reload, opts.debounceMs ?? 200);
    });
  } catch (err) {
    opts.onError(err as Error);
  }
  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
