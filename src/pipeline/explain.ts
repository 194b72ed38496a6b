/**
 * `sieve scrub --explain`: processors built with an ExplainSink report every field they change —
 * where (an OTLP JSON path), how, and by which rule or detector — never the value itself.
 * Processors built without one (the receiver's) pay nothing.
 */

export type ChangeAction =
  /** attribute or map entry removed */
  | 'deleted'
  /** whole value replaced by its hash (HMAC-SHA256 or SHA-256) */
  | 'hashed'
  /** whole value replaced by `****` */
  | 'masked'
  /** spans inside the value replaced (detectors, blocked_values) */
  | 'redacted'
  /** value written by an insert / update / upsert / extract / convert action */
  | 'set';

export interface FieldChange {
  /** component id, e.g. `redaction/pii` */
  processor: string;
  /** OTLP JSON path, e.g. `resourceSpans[0].scopeSpans[0].spans[2].attributes["user_id"]` */
  path: string;
  action: ChangeAction;
  /** the rule: `identifier_keys: user.id`, `detector email`, `actions[3] delete`, … */
  rule: string;
  /** redacted: how many spans were replaced */
  spans?: number;
}

export type ExplainSink = (change: FieldChange) => void;

/** `attributes["user_id"]`-style path segment for a key */
export function keySegment(key: string): string {
  return `[${JSON.stringify(key)}]`;
}

/** one line per change, as `sieve scrub --explain` prints it */
export function formatChange(c: FieldChange): string {
  const how = c.action === 'redacted' ? `redacted ${c.spans ?? 1} span${c.spans === 1 ? '' : 's'}` : c.action;
  return `${c.path}: ${how} by ${c.processor} (${c.rule})`;
}

/** `detector email ×2, phone` from the detector names of each replaced span */
export function detectorRule(hits: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const h of hits) counts.set(h, (counts.get(h) ?? 0) + 1);
  const parts = [...counts].map(([d, n]) => (n > 1 ? `${d} ×${n}` : d));
  return `${parts.length > 1 ? 'detectors' : 'detector'} ${parts.join(', ')}`;
}
