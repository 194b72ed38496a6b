/**
 * Pipeline health for `sieve stats`, read from the ops endpoints (/readyz, /metrics) of the receiver
 * (default :13133) and the loader (default :13134). Counters are totals since each process started.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    out.push({ name: m[1] as string, labels, value });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `where`. */
export function sumOf(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

export interface ReceiverHealth {
  url: string;
  reachable: boolean;
  ready: boolean;
  /** items by signal (spans, log records, metric points) */
  accepted: { traces: number; logs: number; metrics: number };
  /** retryable refusals (429/503) and rejections of bad data */
  refused: number;
  rejected: number;
}

export interface LoaderHealth {
  url: string;
  reachable: boolean;
  ready: boolean;
  /** messages behind the high watermark, summed over partitions */
  lag: number;
  rowsInserted: number;
  dlqMessages: number;
  insertRetries: number;
}

export interface PipelineHealth {
  receiver: ReceiverHealth;
  loader: LoaderHealth;
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch {
    return undefined;
  }
}

async function scrape(base: string, timeoutMs: number) {
  const [ready, metrics] = await Promise.all([get(`${base}/readyz`, timeoutMs), get(`${base}/metrics`, timeoutMs)]);
  return {
    reachable: ready !== undefined || metrics !== undefined,
    ready: ready?.status === 200,
    samples: metrics?.status === 200 ? parsePrometheusText(metrics.body) : [],
  };
}

export function receiverHealthFrom(url: string, reachable: boolean, ready: boolean, s: Sample[]): ReceiverHealth {
  const items = 'sieve_receiver_items_total';
  return {
    url,
    reachable,
    ready,
    accepted: {
      traces: sumOf(s, items, { signal: 'traces', outcome: 'accepted' }),
      logs: sumOf(s, items, { signal: 'logs', outcome: 'accepted' }),
      metrics: sumOf(s, items, { signal: 'metrics', outcome: 'accepted' }),
    },
    refused: sumOf(s, items, { outcome: 'refused' }),
    rejected: sumOf(s, items, { outcome: 'rejected' }),
  };
}

export function loaderHealthFrom(url: string, reachable: boolean, ready: boolean, s: Sample[]): LoaderHealth {
  return {
    url,
    reachable,
    ready,
    lag: sumOf(s, 'sieve_loader_consumer_lag'),
    rowsInserted: sumOf(s, 'sieve_loader_rows_inserted_total'),
    dlqMessages: sumOf(s, 'sieve_loader_dlq_messages_total'),
    insertRetries: sumOf(s, 'sieve_loader_insert_retries_total'),
  };
}

export async function readPipelineHealth(
  urls: { receiver: string; loader: string },
  timeoutMs = 2000,
): Promise<PipelineHealth> {
  const [r, l] = await Promise.all([scrape(urls.receiver, timeoutMs), scrape(urls.loader, timeoutMs)]);
  return {
    receiver: receiverHealthFrom(urls.receiver, r.reachable, r.ready, r.samples),
    loader: loaderHealthFrom(urls.loader, l.reachable, l.ready, l.samples),
  };
}
