/** The labeled PII corpus (test/corpus/pii-corpus.jsonl): one attribute per line with its expected verdict. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Verdict = 'redacted' | 'hashed' | 'deleted' | 'kept';

export interface CorpusEntry {
  id: string;
  /** attribute key the value is sent under */
  key: string;
  /** attribute value: a stringValue, or an intValue / boolValue when `type` says so */
  value: string;
  type?: 'int' | 'bool';
  /**
   * redacted: the PII spans in the value are replaced (value detectors);
   * hashed: the whole value is replaced by its HMAC (identifier key);
   * deleted: the attribute is removed (credential key);
   * kept: the value survives byte for byte.
   */
  expect: Verdict;
  /** positives: what finds it — a built-in detector name, or `identifier_keys` / `credential_keys` */
  detector?: string;
  /** negatives: the look-alike class (epoch_ms, uuid, semver, …) */
  class?: string;
  /** positives: the clear-text PII inside `value`, none of which may survive */
  pii?: string[];
  /** how the value is written: bare, sentence, url, json, log, header, env, code */
  context: string;
}

export const CORPUS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'pii-corpus.jsonl');

export function readCorpus(file = CORPUS_FILE): CorpusEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CorpusEntry);
}
