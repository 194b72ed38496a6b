/**
 * Attribute keys as people write them. A key is cut into lowercase words — at `.`, `_`, `-`, spaces
 * and other punctuation, and at camelCase humps (`userID` → user, id; `clientIPAddress` → client, ip,
 * address) — so `user_id`, `userId`, `UserID`, `user-id`, `USER_ID` and `user.id` are one key.
 *
 * A rule (`user.id`, written in any spelling) matches a key whose words end with the rule's words:
 * prefixes are free (`end_user_id`, `app.user.id`, `x-user-id`), a plural last word counts
 * (`user_ids`), the words may be run together (`userid`, `apikey`), and a trailing word that only
 * says how the value is written may follow (`email_address`, `phone_number`, `ip_addr`,
 * `password_value`). So `email` catches `customer_email` and `billing.email` but not
 * `email_verified` or `email.count`.
 *
 * Key spellings are normalised once per distinct key by the caller's cache, never per value.
 */

/** Trailing words that describe the form of a value, not what it is. */
const FORM_WORDS = new Set([
  'address',
  'addr',
  'number',
  'num',
  'no',
  'nr',
  'value',
  'val',
  'raw',
  'original',
  'orig',
  'str',
  'string',
  'plain',
  'text',
  'plaintext',
]);

const VERSION_WORDS = new Set(['version', 'ver', 'vsn', 'release', 'build', 'revision', 'rev', 'firmware', 'fw']);
const TIME_WORDS = new Set([
  'time',
  'timestamp',
  'ts',
  'at',
  'date',
  'datetime',
  'epoch',
  'unix',
  'nano',
  'nanos',
  'nanoseconds',
  'millis',
  'ms',
  'us',
  'ns',
  'micros',
  'seconds',
  'secs',
  'exp',
  'iat',
  'nbf',
  'expires',
  'expiry',
  'since',
  'until',
  'deadline',
  'created',
  'updated',
  'modified',
]);

const isUpper = (c: number) => c >= 65 && c <= 90;
const isLower = (c: number) => c >= 97 && c <= 122;
const isDigit = (c: number) => c >= 48 && c <= 57;

/** `x-forwarded-for` → [x, forwarded, for]; `clientIPAddress` → [client, ip, address] */
export function keyWords(key: string): string[] {
  const words: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur !== '') words.push(cur.toLowerCase());
    cur = '';
  };
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (!(isUpper(c) || isLower(c) || isDigit(c))) {
      flush();
      continue;
    }
    if (isUpper(c) && cur !== '') {
      const prev = key.charCodeAt(i - 1);
      const next = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
      // a hump: aB, 1B, or the last capital of a run before a lowercase letter (IPAddress → IP | Address)
      if (isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(next))) flush();
    }
    cur += key[i];
  }
  flush();
  return words;
}

export type KeyRuleKind = 'identifier' | 'credential';

export interface KeyRuleMatch {
  kind: KeyRuleKind;
  /** the rule as configured, e.g. `user.id` */
  rule: string;
}

interface CompiledRule {
  kind: KeyRuleKind;
  rule: string;
  words: string[];
  joined: string;
}

function endsWith(words: readonly string[], rule: CompiledRule): boolean {
  const r = rule.words;
  const n = words.length;
  if (n === 0) return false;
  const last = words[n - 1] as string;
  // run together: `userid`, `apikey`, `x-apikey`
  if (r.length > 1 && (last === rule.joined || last === `${rule.joined}s`)) return true;
  if (n < r.length) return false;
  for (let i = 0; i < r.length; i++) {
    const w = words[n - r.length + i] as string;
    const want = r[i] as string;
    if (w === want) continue;
    if (i === r.length - 1 && (w === `${want}s` || w === `${want}es`)) continue;
    return false;
  }
  return true;
}

function matchWords(words: readonly string[], rules: readonly CompiledRule[]): KeyRuleMatch | undefined {
  for (const r of rules) if (endsWith(words, r)) return { kind: r.kind, rule: r.rule };
  return undefined;
}

/**
 * Compiles identifier and credential key rules into a matcher. Credentials win over identifiers
 * (`session.token` is a secret even though `session.id` is an identifier).
 */
export function compileKeyRules(
  identifiers: readonly string[],
  credentials: readonly string[],
): (key: string) => KeyRuleMatch | undefined {
  const compile = (kind: KeyRuleKind, rule: string): CompiledRule => {
    const words = keyWords(rule);
    return { kind, rule, words, joined: words.join('') };
  };
  const rules = [
    ...credentials.map((r) => compile('credential', r)),
    ...identifiers.map((r) => compile('identifier', r)),
  ].filter((r) => r.words.length > 0);
  if (rules.length === 0) return () => undefined;
  return (key) => {
    const words = keyWords(key);
    const direct = matchWords(words, rules);
    if (direct) return direct;
    // `email_address` → email, `phone_number` → phone, `user_id_2` → user id
    let end = words.length;
    while (end > 1 && (FORM_WORDS.has(words[end - 1] as string) || /^\d+$/.test(words[end - 1] as string))) end--;
    return end < words.length ? matchWords(words.slice(0, end), rules) : undefined;
  };
}

/** What a key says about its value's format, for the value detectors. */
export type KeyContext = 'version' | 'time' | undefined;

export function keyContext(key: string): KeyContext {
  const words = keyWords(key);
  const last = words[words.length - 1];
  if (last === undefined) return undefined;
  if (VERSION_WORDS.has(last) || (last.length > 7 && last.endsWith('version'))) return 'version';
  if (TIME_WORDS.has(last) || last.endsWith('timestamp') || last.endsWith('time')) return 'time';
  return undefined;
}

/** true when the text just before `at` ends with a version word (`version 1.2.3.4`, `"ver":"…`, `==`) */
export function precededByVersionWord(s: string, at: number): boolean {
  let i = at;
  const stop = Math.max(0, at - 48);
  while (i > stop && ' \t"\':=>~<'.includes(s[i - 1] as string)) i--;
  if (i < at && s.slice(i, at).includes('==')) return true;
  let j = i;
  while (j > stop && /[A-Za-z0-9_.-]/.test(s[j - 1] as string)) j--;
  if (j === i) return false;
  const ctx = keyContext(s.slice(j, i));
  return ctx === 'version';
}
