/**
 * The loader runs in a worker thread (`sieve loader` and `sieve all` alike): its own V8 heap, sized for
 * it (LOADER_OLD_SPACE_FLAG), whose rows held between Kafka and ClickHouse do not count against the
 * receiver's memory_limiter (which reads the receiver thread's heap) in `sieve all`, and its own
 * JavaScript thread, so decoding rows does not take turns with receiving requests on one core.
 *
 * The thread runs the CLI's `sieve loader` (through bin/sieve.mjs: compiled code or the TypeScript
 * sources, as the main thread does). Worker threads receive no signals: the main thread asks it to
 * stop with a message and waits for it to commit and exit.
 */
import { setFlagsFromString } from 'node:v8';
import { isMainThread, parentPort, Worker, type WorkerOptions } from 'node:worker_threads';
import { loaderHeapFlag } from './v8-flags.js';

const STOP = 'sieve:stop';

export interface LoaderThread {
  /** Resolves with the thread's exit code, whenever and however it ends. */
  exited: Promise<number>;
  /** Asks the loader to finish its inserts, commit and exit; resolves with its exit code. */
  stop(): Promise<number>;
}

/**
 * A worker thread for a loader, its heap configured for it: V8 reads heap flags when it creates an
 * isolate, so the flag set here applies to this thread's heap, not to the running ones.
 */
export function newLoaderWorker(script: URL, options: WorkerOptions): Worker {
  const flag = loaderHeapFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (flag !== null) setFlagsFromString(flag);
  return new Worker(script, options);
}

export function startLoaderThread(configPath: string): LoaderThread {
  const worker = newLoaderWorker(new URL('../../bin/sieve.mjs', import.meta.url), {
    argv: ['loader', '--config', configPath],
  });
  const exited = new Promise<number>((resolve) => {
    worker.once('error', () => undefined); // the thread prints its own error; 'exit' follows with code 1
    worker.once('exit', resolve);
  });
  return {
    exited,
    stop() {
      worker.postMessage(STOP);
      return exited;
    },
  };
}

/** Calls `stop` on SIGINT/SIGTERM in the main thread, or when the main thread asks a loader thread to. */
export function onStopRequest(stop: (reason: string) => void): void {
  if (isMainThread) {
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    return;
  }
  parentPort?.on('message', (m) => {
    if (m === STOP) stop('stop requested by the main thread');
  });
}
