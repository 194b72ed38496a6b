/**
 * `sieve all` runs the loader in a worker thread of the same process: its own V8 heap, so the rows it
 * holds between Kafka and ClickHouse do not count against the receiver's memory_limiter (which reads
 * the receiver thread's heap), and its own JavaScript thread, so decoding rows does not take turns
 * with receiving requests on one core.
 *
 * The thread runs the CLI's `sieve loader` (through bin/sieve.mjs: compiled code or the TypeScript
 * sources, as the main thread does). Worker threads receive no signals: the main thread asks it to
 * stop with a message and waits for it to commit and exit.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const STOP = 'sieve:stop';

export interface LoaderThread {
  /** Resolves with the thread's exit code, whenever and however it ends. */
  exited: Promise<number>;
  /** Asks the loader to finish its inserts, commit and exit; resolves with its exit code. */
  stop(): Promise<number>;
}

export function startLoaderThread(configPath: string): LoaderThread {
  const worker = new Worker(new URL('../../bin/sieve.mjs', import.meta.url), {
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
