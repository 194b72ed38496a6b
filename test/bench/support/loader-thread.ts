// The loader benchmark's loader, on a worker thread as `sieve loader` runs it (newLoaderWorker): the
// thread imports the loader, says 'imported', starts it when told 'start' (after the benchmark has
// taken its CPU reading), says 'started', and stops it (commits) when told 'stop'. Told 'cpu', it
// answers `cpu:<ms>`, its own thread's CPU time so far.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createClickHouseClient } from '../../../src/clickhouse/client.js';
import { startLoader } from '../../../src/loader/loader.js';
import type { RowFormat } from '../../../src/loader/rows.js';
import { threadCpuMs } from './proc-cpu.js';

export interface LoaderThreadData {
  brokers: string[];
  topic: string;
  groupId: string;
  database: string;
  maxBytes: number;
  insertFormat: RowFormat;
}

const data = workerData as LoaderThreadData;
const port = parentPort;
if (port === null) throw new Error('loader-thread.ts runs as a worker thread');
const client = createClickHouseClient();
let stop = async () => {};
port.on('message', (m: string) => {
  if (m === 'start')
    void startLoader({
      brokers: data.brokers,
      topics: { [data.topic]: 'traces' },
      groupId: data.groupId,
      client,
      database: data.database,
      logger: pino({ level: 'warn' }),
      registry: new Registry(),
      batch: { maxBytes: data.maxBytes },
      insertFormat: data.insertFormat,
    }).then((loader) => {
      stop = () => loader.stop();
      port.postMessage('started');
    });
  if (m === 'cpu') port.postMessage(`cpu:${threadCpuMs()}`);
  if (m === 'stop')
    void stop()
      .then(() => client.close())
      .then(() => port.close());
});
port.postMessage('imported');
