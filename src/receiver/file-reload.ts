/**
 * Re-reads files when they change, for what must change without a restart: API keys (revocation)
 * and TLS certificates (rotation). Changes are found by polling `stat` (fs.watchFile), which follows
 * symlinks and so sees Kubernetes secret updates, renames over the file and in-place edits alike.
 * A read that fails (a rotation caught half-written, YAML mid-edit) keeps what is in use and is
 * tried again every interval until it succeeds.
 */
import { type StatWatcher, unwatchFile, watchFile } from 'node:fs';

export interface FileReloadOptions<T> {
  files: readonly string[];
  intervalMs: number;
  /** reads and checks the files; throws when they are not usable (yet) */
  load(): T;
  apply(value: T): void;
  onError(err: Error): void;
}

export function reloadOnChange<T>(opts: FileReloadOptions<T>): { close(): void } {
  let retry: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let closed = false;
  const attempt = () => {
    clearTimeout(retry);
    if (closed) return;
    let value: T;
    try {
      value = opts.load();
    } catch (err) {
      opts.onError(err as Error);
      retry = setTimeout(attempt, opts.intervalMs);
      retry.unref();
      return;
    }
    opts.apply(value);
  };
  const onChange = () => {
    // several files of one rotation (certificate, then key) change within a few milliseconds
    clearTimeout(debounce);
    debounce = setTimeout(attempt, Math.min(200, opts.intervalMs));
    debounce.unref();
  };
  const watchers: StatWatcher[] = [];
  for (const f of new Set(opts.files))
    watchers.push(watchFile(f, { interval: opts.intervalMs, persistent: false }, onChange));
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(debounce);
      for (const f of new Set(opts.files)) unwatchFile(f, onChange);
    },
  };
}
