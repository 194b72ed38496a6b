/**
 * Scores a traces pipeline on the labeled corpus: every entry becomes one span attribute, spans go
 * through `pipeline.process` in batches, and each output attribute is compared with its label.
 *
 * - positive caught: none of its clear-text PII survives (also not in pieces: for numbers of 10+
 *   digits, neither the first nor the last 8 digits);
 * - positive as labeled: caught by the labeled means (hashed → exactly HMAC(value); deleted → gone;
 *   redacted → still there with the PII replaced);
 * - negative kept: the attribute is there with the same type and the same bytes.
 */
import { createHmac } from 'node:crypto';
import type { AnyValue, ExportTraceServiceRequest, KeyValue, Span } from '../../src/otlp/model.js';
import type { SignalPipeline } from '../../src/pipeline/api.js';
import type { CorpusEntry } from './corpus.js';

export interface Tally {
  total: number;
  /** positives: caught; negatives: kept */
  good: number;
  /** positives caught by the labeled means */
  asLabeled: number;
  misses: { entry: CorpusEntry; out: AnyValue | undefined }[];
}

export interface Score {
  /** by detector (positives) and by look-alike class (negatives) */
  positives: Map<string, Tally>;
  negatives: Map<string, Tally>;
  recall: number;
  falsePositiveRate: number;
  positivesTotal: number;
  negativesTotal: number;
}

function toAnyValue(e: CorpusEntry): AnyValue {
  if (e.type === 'int') return { intValue: e.value };
  if (e.type === 'bool') return { boolValue: e.value === 'true' };
  return { stringValue: e.value };
}

function sameValue(a: AnyValue | undefined, b: AnyValue): boolean {
  if (a === undefined) return false;
  if (b.stringValue !== undefined) return a.stringValue === b.stringValue;
  if (b.intValue !== undefined) return a.intValue != null && String(a.intValue) === String(b.intValue);
  if (b.boolValue !== undefined) return a.boolValue === b.boolValue;
  return false;
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
const digitsOf = (s: string) => decoded(s).replace(/\D/g, '');

/** true when any of `pii` survives in `out` whole, or (numbers) its first or last 8 digits do */
export function leaks(pii: readonly string[], out: string): boolean {
  const outDigits = digitsOf(out);
  for (const p of pii) {
    if (out.includes(p) || decoded(out).includes(decoded(p))) return true;
    const d = digitsOf(p);
    if (d.length >= 10 && (outDigits.includes(d.slice(0, 8)) || outDigits.includes(d.slice(-8)))) return true;
  }
  return false;
}

function outputText(v: AnyValue | undefined): string {
  if (v === undefined) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return String(v.intValue);
  return JSON.stringify(v);
}

export function scoreCorpus(
  pipeline: SignalPipeline<'traces'>,
  entries: readonly CorpusEntry[],
  hashKey: string,
  batchSize = 256,
): Score {
  const hmac = (v: string) => createHmac('sha256', hashKey).update(v, 'utf8').digest('hex');
  const positives = new Map<string, Tally>();
  const negatives = new Map<string, Tally>();
  const tally = (m: Map<string, Tally>, k: string): Tally => {
    let t = m.get(k);
    if (!t) m.set(k, (t = { total: 0, good: 0, asLabeled: 0, misses: [] }));
    return t;
  };
  for (let start = 0; start < entries.length; start += batchSize) {
    const batch = entries.slice(start, start + batchSize);
    const spans: Span[] = batch.map((e, i) => ({
      traceId: Buffer.alloc(16, 1),
      spanId: Buffer.from((start + i + 1).toString(16).padStart(16, '0'), 'hex'),
      name: 'corpus',
      kind: 1,
      startTimeUnixNano: '1700000000000000000',
      endTimeUnixNano: '1700000000001000000',
      attributes: [{ key: e.key, value: toAnyValue(e) }],
    }));
    const req: ExportTraceServiceRequest = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'corpus' } }] },
          scopeSpans: [{ scope: { name: 'corpus' }, spans }],
        },
      ],
    };
    const outSpans = pipeline.process(req).request.resourceSpans?.[0]?.scopeSpans?.[0]?.spans ?? [];
    batch.forEach((e, i) => {
      const attrs: KeyValue[] = outSpans[i]?.attributes ?? [];
      const out = attrs.find((a) => a.key === e.key)?.value ?? undefined;
      if (e.expect === 'kept') {
        const t = tally(negatives, e.class ?? '?');
        t.total++;
        if (sameValue(out, toAnyValue(e))) {
          t.good++;
          t.asLabeled++;
        } else t.misses.push({ entry: e, out });
        return;
      }
      const t = tally(positives, e.detector ?? '?');
      t.total++;
      const caught = out === undefined || !leaks(e.pii ?? [e.value], outputText(out));
      if (!caught) {
        t.misses.push({ entry: e, out });
        return;
      }
      t.good++;
      if (
        (e.expect === 'deleted' && out === undefined) ||
        (e.expect === 'hashed' && out?.stringValue === hmac(e.value)) ||
        (e.expect === 'redacted' && out !== undefined)
      )
        t.asLabeled++;
    });
  }
  const sum = (m: Map<string, Tally>, f: (t: Tally) => number) => [...m.values()].reduce((a, t) => a + f(t), 0);
  const positivesTotal = sum(positives, (t) => t.total);
  const negativesTotal = sum(negatives, (t) => t.total);
  return {
    positives,
    negatives,
    positivesTotal,
    negativesTotal,
    recall: sum(positives, (t) => t.good) / positivesTotal,
    falsePositiveRate: sum(negatives, (t) => t.total - t.good) / negativesTotal,
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The report the benchmark prints: one row per detector and per look-alike class. */
export function formatScore(s: Score): string {
  const lines: string[] = [];
  lines.push('| detector | positives | caught | recall | as labeled |', '| --- | ---: | ---: | ---: | ---: |');
  for (const [d, t] of [...s.positives].sort()) {
    lines.push(`| ${d} | ${t.total} | ${t.good} | ${pct(t.good / t.total)} | ${t.asLabeled} |`);
  }
  const caught = [...s.positives.values()].reduce((a, t) => a + t.good, 0);
  lines.push(`| **all** | ${s.positivesTotal} | ${caught} | **${pct(s.recall)}** | |`, '');
  lines.push('| look-alike class | negatives | touched | false positives |', '| --- | ---: | ---: | ---: |');
  for (const [c, t] of [...s.negatives].sort()) {
    lines.push(`| ${c} | ${t.total} | ${t.total - t.good} | ${pct((t.total - t.good) / t.total)} |`);
  }
  const touched = [...s.negatives.values()].reduce((a, t) => a + t.total - t.good, 0);
  lines.push(`| **all** | ${s.negativesTotal} | ${touched} | **${pct(s.falsePositiveRate)}** |`);
  return lines.join('\n');
}

/** misses, without clear-text values: id, key, context (for reading the corpus file by id) */
export function formatMisses(s: Score, max = 40): string {
  const rows: string[] = [];
  for (const m of [s.positives, s.negatives])
    for (const t of m.values())
      for (const x of t.misses) rows.push(`${x.entry.id}\t${x.entry.key}\t${x.entry.context}`);
  return rows.slice(0, max).join('\n') + (rows.length > max ? `\n… ${rows.length - max} more` : '');
}
